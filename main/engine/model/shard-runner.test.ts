import test from 'node:test';
import assert from 'node:assert/strict';
import { loadShard } from './llama.js';
import { ReferenceBackend } from './reference-backend.js';
import { ShardRunner } from './shard-runner.js';
import { tinyModel } from './tiny-model.fixture.js';

async function runner(maxSequences = 2): Promise<ShardRunner> {
  const model = tinyModel({ architecture: 'qwen3' });
  const shard = await loadShard({ header: model.header, readTensor: model.readTensor, backend: new ReferenceBackend() });
  return new ShardRunner(shard, { contextLength: 32, maxSequences });
}

const FIRST = new Int32Array([1, 2, 3, 4, 5, 6]);
const FOLLOW_UP = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);

test('a follow-up prompt computes only its new tokens, with the same logits as from scratch', async () => {
  const warm = await runner();
  assert.equal(warm.prefill('chat', FIRST).cachedTokens, 0);
  const followUp = warm.prefill('chat', FOLLOW_UP);
  assert.equal(followUp.cachedTokens, FIRST.length);
  const cold = (await runner()).prefill('chat', FOLLOW_UP);
  assert.deepEqual(followUp.output.data, cold.output.data);
  assert.deepEqual(warm.cachedTokens('chat'), [...FOLLOW_UP]);
});

test('the same prompt again recomputes only its last token; a diverging one stops at the fork', async () => {
  const warm = await runner();
  const first = warm.prefill('chat', FOLLOW_UP);
  const again = warm.prefill('chat', FOLLOW_UP);
  assert.equal(again.cachedTokens, FOLLOW_UP.length - 1);
  assert.deepEqual(again.output.data, first.output.data);
  const fork = new Int32Array([1, 2, 3, 40, 50]);
  const forked = warm.prefill('chat', fork);
  assert.equal(forked.cachedTokens, 3);
  assert.deepEqual(forked.output.data, (await runner()).prefill('x', fork).output.data);
});

test('sequences keep separate caches; the least recently used one is reused past the limit', async () => {
  const warm = await runner(2);
  warm.prefill('a', FIRST);
  warm.prefill('b', new Int32Array([9, 9, 9]));
  assert.equal(warm.prefill('a', FOLLOW_UP).cachedTokens, FIRST.length);
  warm.prefill('c', FIRST); // evicts b
  assert.deepEqual(warm.cachedTokens('b'), []);
  assert.equal(warm.prefill('a', FOLLOW_UP).cachedTokens, FOLLOW_UP.length - 1);
});

test('a prompt longer than the context is refused before any work', async () => {
  const warm = await runner();
  assert.throws(() => warm.prefill('a', new Int32Array(33).fill(1)), { code: 'CONTEXT_OVERFLOW' });
  assert.throws(() => warm.forward('a', new Int32Array([1, 2]), 31), { code: 'CONTEXT_OVERFLOW' });
});

test('a dropped sequence gives its cache to the next one, which starts empty', async () => {
  const model = tinyModel({ architecture: 'qwen3' });
  const backend = new ReferenceBackend();
  const shard = await loadShard({ header: model.header, readTensor: model.readTensor, backend });
  const warm = new ShardRunner(shard, { contextLength: 32, maxSequences: 4 });
  let allocations = 0;
  const alloc = backend.alloc.bind(backend);
  backend.alloc = (length: number) => (allocations++, alloc(length));
  warm.prefill('a', FIRST);
  const afterFirst = allocations;
  assert.ok(afterFirst > 0, 'the first sequence allocates its cache');
  warm.dropSequence('a');
  warm.dropSequence('never-seen');
  const next = warm.prefill('b', FOLLOW_UP);
  assert.equal(allocations, afterFirst, 'no new cache for b');
  assert.equal(next.cachedTokens, 0);
  assert.deepEqual(next.output.data, (await runner()).prefill('b', FOLLOW_UP).output.data);
});
