// `tessera run` on a split GGUF (name-00001-of-00003.gguf …), as a user runs it: the first part
// (or any part) names the model, the output equals the whole file's, and a missing part is one
// clear line.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { runTessera } from './support/tessera-process.js';

let scratch: string;
let whole: string;
let parts: readonly string[];
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tessera-split-e2e-'));
  whole = join(scratch, 'tiny.gguf');
  const options = { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 2, seed: 9 } as const;
  await writeRandomModel(whole, options);
  parts = (await writeRandomModel(join(scratch, 'tiny-split.gguf'), { ...options, split: 3 })).paths;
});
after(() => rm(scratch, { recursive: true, force: true }));

const GREEDY = ['--raw', '--temperature', '0', '--max-tokens', '6', '--threads', '1'];
const TIMEOUT = { timeoutMs: 60_000 };

test('tessera run on the first part of a split model prints what the whole file prints', async () => {
  const expected = await runTessera(['run', whole, 'The river', ...GREEDY], TIMEOUT);
  assert.equal(expected.code, 0, expected.stderr);
  assert.ok(expected.stdout.length > 0);
  const split = await runTessera(['run', parts[0]!, 'The river', ...GREEDY], TIMEOUT);
  assert.equal(split.code, 0, split.stderr);
  assert.equal(split.stdout, expected.stdout);
  assert.match(split.stderr, /generated: 6 tokens/);
  // Local shards (--layers) over the split model give the same text again.
  const sharded = await runTessera(['run', parts[0]!, 'The river', ...GREEDY, '--layers', '1:2'], TIMEOUT);
  assert.equal(sharded.code, 0, sharded.stderr);
  assert.equal(sharded.stdout, expected.stdout);
});

test('a missing part is one line naming it, and exit 1', async () => {
  await rm(parts[2]!);
  const run = await runTessera(['run', parts[0]!, 'x', ...GREEDY], TIMEOUT);
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, /^tessera: .*tiny-split-00003-of-00003\.gguf/);
});
