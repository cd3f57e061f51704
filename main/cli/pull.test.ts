// `tessera pull`, `models` and `rm` end to end: the real CLI against a local hub (HF_ENDPOINT).
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { TestHub } from '../models/test-hub.js';
import { runCli } from './index.js';

const REPO = 'tessera-test/Tiny-GGUF';
const FILE = 'Tiny-Q8_0.gguf';
const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));

let dir: string;
let model: Uint8Array;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-cli-pull-'));
  await writeRandomModel(join(dir, 'tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true });
  model = await readFile(join(dir, 'tiny.gguf'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): { stdout: string[]; stderr: string[]; output: { out(l: string): void; error(l: string): void } } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, output: { out: (l) => stdout.push(l), error: (l) => stderr.push(l) } };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

it('a pull killed with SIGKILL continues with a Range request; models lists it, rm deletes it', async () => {
  const hub = new TestHub({ bytesPerSecond: 3 * 1024 * 1024 });
  hub.addRepo(REPO, { files: [{ path: FILE, bytes: model }, { path: 'Tiny-Q4_K_M.gguf', bytes: model.subarray(0, 4096) }] });
  await hub.listen();
  const dataDir = join(dir, 'data');
  const previousEndpoint = process.env.HF_ENDPOINT;
  try {
    const child = spawn(process.execPath, [BIN, 'pull', `${REPO}:${FILE}`, '--data-dir', dataDir], {
      env: { ...process.env, HF_ENDPOINT: hub.url, TESSERA_FROM_SOURCE: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const partial = join(dataDir, 'models', `${FILE}.partial`);
    const deadline = Date.now() + 60_000;
    while ((await sizeOf(partial)) < 1024 * 1024) {
      assert.ok(Date.now() < deadline, 'the child never started writing');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    await exited;
    const kept = await sizeOf(partial);
    assert.ok(kept > 0 && kept < model.byteLength);

    hub.options.bytesPerSecond = 0;
    process.env.HF_ENDPOINT = hub.url;
    const pulled = capture();
    assert.equal(await runCli(['pull', `${REPO}:${FILE}`, '--data-dir', dataDir], pulled.output), 0, pulled.stderr.join('\n'));
    const resumed = hub.requests.filter((request) => request.range !== undefined && /^bytes=[1-9]\d*-/.test(request.range));
    assert.equal(resumed.length, 1, JSON.stringify(hub.contentRequests()));
    assert.ok(Number(/^bytes=(\d+)-/.exec(resumed[0]!.range!)![1]) >= kept);
    const stored = await readFile(join(dataDir, 'models', FILE));
    assert.equal(createHash('sha256').update(stored).digest('hex'), createHash('sha256').update(model).digest('hex'));

    const listed = capture();
    assert.equal(await runCli(['models', '--data-dir', dataDir], listed.output), 0);
    assert.match(listed.stdout.join('\n'), /Tiny-Q8_0\s+\S+ MB\s+qwen3\s+Q8_0\s+2/);

    const removed = capture();
    assert.equal(await runCli(['rm', 'Tiny-Q8_0', '--data-dir', dataDir], removed.output), 0);
    assert.equal(await sizeOf(join(dataDir, 'models', FILE)), 0);
  } finally {
    if (previousEndpoint === undefined) delete process.env.HF_ENDPOINT;
    else process.env.HF_ENDPOINT = previousEndpoint;
    await hub.close();
  }
});

it('bad input is one clear line and a non-zero exit', async () => {
  const hub = new TestHub();
  hub.addRepo(REPO, { files: [{ path: FILE, bytes: model.subarray(0, 4096) }] });
  hub.addRepo('tessera-test/gated', { files: [{ path: 'g.gguf', bytes: model.subarray(0, 64) }], gatedToken: 'hf_x' });
  await hub.listen();
  const dataDir = join(dir, 'bad');
  const previous = { endpoint: process.env.HF_ENDPOINT, token: process.env.HF_TOKEN };
  process.env.HF_ENDPOINT = hub.url;
  delete process.env.HF_TOKEN;
  try {
    for (const args of [
      ['pull'],
      ['pull', 'not a repo'],
      ['pull', 'nobody/nothing'],
      ['pull', `${REPO}:missing.gguf`],
      ['pull', 'tessera-test/gated'],
      ['pull', REPO, '--layers', '3:1'],
      ['rm', 'absent'],
    ]) {
      const { stdout, stderr, output } = capture();
      assert.notEqual(await runCli([...args, '--data-dir', dataDir], output), 0, args.join(' '));
      assert.equal(stderr.length, 1, `${args.join(' ')}: ${stderr.join('\n')}`);
      assert.doesNotMatch(stderr[0]!, /at .*\.ts:\d+/);
      if (args[1] === 'tessera-test/gated') assert.match(stderr[0]!, /HF_TOKEN/);
      void stdout;
    }
  } finally {
    for (const [key, value] of [['HF_ENDPOINT', previous.endpoint], ['HF_TOKEN', previous.token]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await hub.close();
  }
});
