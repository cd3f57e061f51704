// The `tessera` command. To add a command: write `main/cli/<name>.ts` exporting a CliCommand,
// import it here and add one line to COMMANDS.
import { parseArgs } from 'node:util';
import { isTesseraError, TesseraError } from '../../shared/errors.js';
import { tesseraVersion } from '../node/version.js';
import type { CliCommand, CliOutput, FlagValues } from './command.js';
import { modelsCommand } from './models.js';
import { pullCommand } from './pull.js';
import { rmCommand } from './rm.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { startCommand } from './start.js';

export const COMMANDS: Record<string, CliCommand> = {
  start: startCommand,
  serve: serveCommand,
  run: runCommand,
  pull: pullCommand,
  models: modelsCommand,
  rm: rmCommand,
};

/** Exit codes: 0 done, 1 failed at run time (port in use, data dir), 2 bad command line. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

const consoleOutput: CliOutput = { out: (line) => console.log(line), error: (line) => console.error(line) };

/** Runs `tessera <argv>`; resolves to the exit code. Never throws, never prints a stack (unless TESSERA_DEBUG=1). */
export async function runCli(argv: string[], output: CliOutput = consoleOutput): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      output.out(generalHelp());
      return 0;
    }
    if (first === '--version' || first === '-v') {
      output.out(tesseraVersion());
      return 0;
    }
    const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (!command) {
      throw new TesseraError('CLI_BAD_ARGUMENT', first.startsWith('-') ? `unknown option ${first} (see tessera --help)` : `unknown command "${first}" (see tessera --help)`);
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      output.out(commandHelp(first, command));
      return 0;
    }
    const { flags, positionals } = parseCommandLine(first, command, rest);
    return await command.run({ flags, positionals, output });
  } catch (error) {
    return reportFailure(error, output);
  }
}

function parseCommandLine(name: string, command: CliCommand, args: string[]): { flags: FlagValues; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries(command.flags).map(([flag, spec]) => [
      flag,
      { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: command.positionals ?? false });
    return { flags: values as FlagValues, positionals };
  } catch (error) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `${describeParseError(error)} (see tessera ${name} --help)`, { cause: error });
  }
}

/** Node's parseArgs messages are long and suggest `--` tricks; say it shorter. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1];
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted ?? ''}`.trim();
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted ?? ''}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `option ${/--[\w-]+/.exec(quoted ?? '')?.[0] ?? quoted ?? ''} needs a value`;
    default:
      return message.split('\n')[0] ?? message;
  }
}

function reportFailure(error: unknown, output: CliOutput): number {
  if (process.env.TESSERA_DEBUG === '1') output.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  if (isTesseraError(error)) {
    output.error(`tessera: ${error.message}`);
    return error.code === 'CLI_BAD_ARGUMENT' ? EXIT_USAGE : EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  output.error(`tessera: unexpected error: ${message.split('\n')[0]} (set TESSERA_DEBUG=1 for details)`);
  return EXIT_FAILURE;
}

function generalHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'Tessera: one LLM inference cluster from the computers on your network.',
    '',
    'Usage: tessera <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.description}`),
    '',
    'Options:',
    '  -h, --help     show help (also: tessera <command> --help)',
    '  -v, --version  print the version',
  ].join('\n');
}

export function commandHelp(name: string, command: CliCommand): string {
  const rows = Object.entries(command.flags).map(([flag, spec]) => {
    const label = `${spec.short ? `-${spec.short}, ` : '    '}--${flag}${spec.valueName ? ` ${spec.valueName}` : ''}`;
    const defaultText = spec.defaultText ? ` (default: ${spec.defaultText})` : '';
    return [label, `${spec.description}${defaultText}`] as const;
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `Usage: tessera ${name} ${command.usage ?? '[options]'}`,
    '',
    command.description,
    '',
    'Options:',
    ...rows.map(([label, text]) => `  ${label.padEnd(width)}  ${text}`),
  ].join('\n');
}
