// The shape of one `tessera` subcommand. Each command lives in its own file and exports one
// CliCommand; main/cli/index.ts lists them in its command table.

export interface CommandFlag {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
  /** Placeholder shown in help, e.g. `<port>`. */
  valueName?: string;
  /** Default shown in help (the command applies it itself). */
  defaultText?: string;
  /** The flag may be given several times; its value is then a list (`--peer a --peer b`). */
  multiple?: boolean;
}

export type FlagValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Where a command writes; tests pass their own to capture output. */
export interface CliOutput {
  out(line: string): void;
  error(line: string): void;
}

export interface CommandInput {
  flags: FlagValues;
  positionals: string[];
  output: CliOutput;
}

export interface CliCommand {
  /** One line for `tessera --help`. */
  description: string;
  /** Usage after the command name, e.g. `[options] <model.gguf>`. */
  usage?: string;
  flags: Record<string, CommandFlag>;
  /** Whether positional arguments are accepted (they are refused otherwise). */
  positionals?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(input: CommandInput): Promise<number>;
}

/** Reads a string flag (parseArgs gives `string | boolean | undefined`); the last one of a repeated flag. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  if (Array.isArray(value)) return stringFlag({ [name]: value[value.length - 1] }, name);
  return typeof value === 'string' ? value : undefined;
}

/** Every value of a repeatable string flag, in order. */
export function stringListFlag(flags: FlagValues, name: string): string[] {
  const value = flags[name];
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return values.filter((item): item is string => typeof item === 'string');
}
