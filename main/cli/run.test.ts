import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { Engine } from '../engine/index.js';
import { runCli } from './index.js';

let dir: string;
let path: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-run-'));
  path = join(dir, 'tiny.gguf');
  await writeRandomModel(path, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 1 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function capture(): { stdout: string[]; stderr: string[]; output: { out(l: string): void; error(l: string): void; write(t: string): void } } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, output: { out: (l) => stdout.push(`${l}\n`), error: (l) => stderr.push(l), write: (t) => stdout.push(t) } };
}

it('--raw streams exactly the greedy completion to stdout and speed to stderr', async () => {
  const { stdout, stderr, output } = capture();
  const code = await runCli(['run', path, 'Once upon a time', '--raw', '--temperature', '0', '--max-tokens', '5', '--threads', '1'], output);
  assert.equal(code, 0);
  assert.match(stderr.join('\n'), /generated: 5 tokens, [\d.]+ tokens\/s/);
  const engine = await Engine.load({ path, threads: 1 });
  try {
    let expected = '';
    for await (const event of engine.generate({ prompt: 'Once upon a time', sampling: { temperature: 0 }, maxTokens: 5 })) expected += event.text;
    assert.equal(stdout.join(''), expected);
  } finally {
    await engine.close();
  }
});

it('--layers a:b runs the model as local shards, with the whole model\'s output', async () => {
  const layered = join(dir, 'three-layers.gguf');
  await writeRandomModel(layered, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 3, seed: 5 });
  const outputs: string[] = [];
  for (const extra of [[], ['--layers', '1:2']]) {
    const { stdout, output } = capture();
    assert.equal(await runCli(['run', layered, 'The sea', '--raw', '--temperature', '0', '--max-tokens', '6', '--threads', '1', ...extra], output), 0);
    outputs.push(stdout.join(''));
  }
  assert.ok(outputs[0]!.length > 0);
  assert.equal(outputs[1], outputs[0]);
  const { stderr, output } = capture();
  assert.equal(await runCli(['run', layered, 'x', '--layers', '2:9'], output), 2);
  assert.match(stderr.join('\n'), /not a range of this model's 3 layers/);
});

it('bad input is one clear line and a non-zero exit', async () => {
  for (const args of [['run', path], ['run', path, 'x', '--top-p', '2'], ['run', path, 'x', '--layers', 'zero'], ['run', join(dir, 'missing.gguf'), 'x']]) {
    const { stdout, stderr, output } = capture();
    assert.notEqual(await runCli(args, output), 0, args.join(' '));
    assert.equal(stdout.join(''), '');
    assert.equal(stderr.length, 1, stderr.join('\n'));
  }
});
