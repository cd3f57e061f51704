// The `tessera` command as a user meets it: help, version, bad input, two nodes, clean stops.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { electronAvailability } from '../main/app/launch.js';
import { freePort, REPOSITORY_ROOT, runTessera, startTessera, type CliRun } from './support/tessera-process.js';

const scratch = await mkdtemp(join(tmpdir(), 'tessera-cli-e2e-'));
after(() => rm(scratch, { recursive: true, force: true }));
const { version } = JSON.parse(await readFile(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { version: string };

/** One clear line on stderr, no stack trace. */
function assertOneLineError(run: CliRun, expectedCode: number, pattern: RegExp): void {
  assert.equal(run.code, expectedCode, `exit code; stderr: ${run.stderr}`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${run.stderr}`);
  assert.match(lines[0]!, /^tessera: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

test('--help lists the commands; serve --help documents the flags and default port', async () => {
  const help = await runTessera(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /serve\s+run a headless node/);
  assert.match(help.stdout, /start\s+open the desktop app/);
  const serveHelp = await runTessera(['serve', '--help']);
  assert.equal(serveHelp.code, 0);
  for (const flag of ['--port', '--host', '--data-dir', '--name']) assert.match(serveHelp.stdout, new RegExp(flag));
  assert.match(serveHelp.stdout, /default: 7340/);
});

test('--version prints the package version', async () => {
  const run = await runTessera(['--version']);
  assert.equal(run.code, 0);
  assert.equal(run.stdout.trim(), version);
});

test('the compiled build runs too', { skip: existsSync(join(REPOSITORY_ROOT, 'dist/main/cli/index.js')) ? false : 'dist/ not built (npm run build:main)' }, async () => {
  const run = await runTessera(['--version'], { fromSource: false });
  assert.equal(run.code, 0);
  assert.equal(run.stdout.trim(), version);
});

test('an unknown flag or command is one line and exit 2', async () => {
  assertOneLineError(await runTessera(['serve', '--frobnicate']), 2, /unknown option --frobnicate/);
  assertOneLineError(await runTessera(['frobnicate']), 2, /unknown command "frobnicate"/);
  assertOneLineError(await runTessera(['serve', '--port', 'seventy']), 2, /--port must be a whole number/);
});

test('a port in use is one line and exit 1', async () => {
  const blocker = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  try {
    const run = await runTessera(['serve', '--port', String(port), '--data-dir', join(scratch, 'busy')]);
    assertOneLineError(run, 1, new RegExp(`port ${port} .*already in use`));
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('an unwritable data dir is one line and exit 1', async () => {
  const file = join(scratch, 'not-a-folder');
  await writeFile(file, 'x');
  const run = await runTessera(['serve', '--port', '0', '--data-dir', join(file, 'data')]);
  assertOneLineError(run, 1, /cannot use data directory .*not a directory/);
});

test('two nodes with two data dirs run side by side with two ids; SIGTERM stops each cleanly', async () => {
  const [first, second] = await Promise.all([startTessera(), startTessera()]);
  try {
    const id = async (baseUrl: string, token: string) =>
      ((await (await fetch(`${baseUrl}/api/node`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string }).id;
    const firstId = await id(first.baseUrl, first.token);
    const secondId = await id(second.baseUrl, second.token);
    assert.notEqual(firstId, secondId);
    assert.notEqual(first.token, second.token);
    const stored = JSON.parse(await readFile(join(first.dataDir, 'identity.json'), 'utf8')) as { id: string };
    assert.equal(stored.id, firstId);
  } finally {
    for (const node of [first, second]) {
      const run = await node.stop();
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /Stopped\./);
      assert.equal(run.stderr, '');
    }
  }
});

test('the same data dir keeps its id across restarts', async () => {
  const dataDir = join(scratch, 'restart');
  const ids: string[] = [];
  for (let start = 0; start < 2; start += 1) {
    const node = await startTessera({ dataDir });
    ids.push(/\(([0-9a-f-]{36})\)/.exec(node.output().stdout)![1]!);
    await node.stop();
  }
  assert.equal(ids[0], ids[1]);
});

const electron = electronAvailability();
test('start without Electron says why in one line and runs the node headless', { skip: electron.available ? 'Electron can start here (see electron.test.ts)' : false }, async () => {
  const node = await startTessera({ command: 'start' });
  const run = await node.stop();
  assert.equal(run.code, 0, `exit ${run.code} (signal ${String(run.signal)})\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.stderr.trim().split('\n').length, 1);
  assert.match(run.stderr, /^Desktop app unavailable: .+; running headless instead\.$/m);
  assert.match(run.stdout, /UI:\s+http:\/\/127\.0\.0\.1:\d+\/\?token=/);
});
