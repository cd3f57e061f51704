import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_HTTP_PORT } from '../../shared/control.js';
import { isTesseraError } from '../../shared/errors.js';
import type { CliOutput } from './command.js';
import { COMMANDS, runCli } from './index.js';
import { nodeConfigFromFlags } from './node-flags.js';

function captured(): CliOutput & { out_: string[]; error_: string[] } {
  const out_: string[] = [];
  const error_: string[] = [];
  return { out_, error_, out: (line) => out_.push(line), error: (line) => error_.push(line) };
}

async function failure(argv: string[]): Promise<{ code: number; message: string }> {
  const output = captured();
  const code = await runCli(argv, output);
  assert.equal(output.error_.length, 1, `one error line, got ${JSON.stringify(output.error_)}`);
  return { code, message: output.error_[0]! };
}

test('bad command lines exit 2 with one line naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--frobnicate'], /^tessera: unknown option --frobnicate \(see tessera serve --help\)$/],
    [['serve', '--port'], /option --port needs a value/],
    [['serve', '--port', '70000'], /--port must be a whole number from 0 to 65535/],
    [['serve', '--port', '-1'], /--port/],
    [['serve', 'extra'], /unexpected argument "extra"/],
    [['serve', '--name', 'x'.repeat(65)], /--name is at most 64 characters/],
    [['serve', '--host', 'a b'], /--host must be an address/],
    [['launch'], /unknown command "launch"/],
    [['--frobnicate'], /unknown option --frobnicate/],
  ];
  for (const [argv, pattern] of cases) {
    const { code, message } = await failure(argv);
    assert.equal(code, 2, argv.join(' '));
    assert.match(message, pattern, argv.join(' '));
  }
});

test('help and version exit 0', async () => {
  for (const argv of [[], ['--help'], ['-h'], ['serve', '--help'], ['start', '-h'], ['--version']]) {
    const output = captured();
    assert.equal(await runCli(argv, output), 0, argv.join(' '));
    assert.ok(output.out_.length > 0);
    assert.deepEqual(output.error_, []);
  }
});

test('every command has a description and documented flags', () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    assert.ok(command.description, name);
    for (const [flag, spec] of Object.entries(command.flags)) assert.ok(spec.description, `${name} --${flag}`);
  }
});

test('node flags become a NodeConfig with the documented defaults', () => {
  const defaults = nodeConfigFromFlags({}, { TESSERA_HOME: '/srv/t' });
  const meshDefaults = { port: 7341, peers: [], discovery: true };
  assert.deepEqual(defaults, { port: DEFAULT_HTTP_PORT, host: '127.0.0.1', dataDir: '/srv/t', name: undefined, mesh: meshDefaults });
  const given = nodeConfigFromFlags({ port: '0', host: '[::1]', 'data-dir': '/tmp/x', name: ' desk ' }, {});
  assert.deepEqual(given, { port: 0, host: '::1', dataDir: '/tmp/x', name: 'desk', mesh: meshDefaults });
  const mesh = nodeConfigFromFlags({ 'mesh-port': '0', join: 'abc', peer: ['10.0.0.2:7341', '[::1]:7000'], 'no-discovery': true, 'memory-limit': '512M' }, {});
  assert.deepEqual(mesh.mesh, { port: 0, peers: ['10.0.0.2:7341', '[::1]:7000'], discovery: false, joinSecret: 'abc', memoryLimitBytes: 512 * 1024 * 1024 });
  assert.throws(() => nodeConfigFromFlags({ 'memory-limit': 'lots' }, {}), (error) => isTesseraError(error, 'CLI_BAD_ARGUMENT'));
  assert.throws(() => nodeConfigFromFlags({ peer: ['bad host:99999'] }, {}), (error) => isTesseraError(error, 'CLI_BAD_ARGUMENT'));
  assert.throws(() => nodeConfigFromFlags({ 'data-dir': ' ' }, {}), (error) => isTesseraError(error, 'CLI_BAD_ARGUMENT'));
});
