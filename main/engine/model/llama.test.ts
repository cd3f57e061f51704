import test from 'node:test';
import assert from 'node:assert/strict';
import { createKvCache, createRunState, forward, loadShard, type LlamaShard } from './llama.js';
import { ReferenceBackend } from './reference-backend.js';
import { tinyModel, type TinyModel } from './tiny-model.fixture.js';
import { GGMLType } from '../gguf/types.js';
import type { LlamaArchitecture } from './config.js';

const PROMPT = new Int32Array([1, 17, 42, 5, 88, 3, 60, 61, 9, 30]);

function load(model: TinyModel, layers?: [number, number]): Promise<LlamaShard> {
  return loadShard({ header: model.header, readTensor: model.readTensor, backend: new ReferenceBackend(), layers });
}

/** Prefill PROMPT, then decode `steps` tokens (greedy); returns every logits vector. */
function runWhole(shard: LlamaShard, steps: number, maxBatch?: number): Float32Array[] {
  const state = createRunState(shard, maxBatch);
  const cache = createKvCache(shard, 64);
  const out: Float32Array[] = [];
  let logits = forward(shard, state, cache, PROMPT, 0).data;
  out.push(logits);
  for (let i = 0; i < steps; i++) {
    logits = forward(shard, state, cache, new Int32Array([argmax(logits)]), PROMPT.length + i).data;
    out.push(logits);
  }
  return out;
}

function runSharded(shards: LlamaShard[], steps: number): Float32Array[] {
  const states = shards.map((s) => createRunState(s));
  const caches = shards.map((s) => createKvCache(s, 64));
  const step = (tokens: Int32Array, position: number): Float32Array => {
    let input: Int32Array | Float32Array = tokens;
    let output: Float32Array = new Float32Array();
    shards.forEach((shard, i) => {
      output = forward(shard, states[i]!, caches[i]!, input, position).data;
      input = output;
    });
    return output;
  };
  const out: Float32Array[] = [step(PROMPT, 0)];
  for (let i = 0; i < steps; i++) out.push(step(new Int32Array([argmax(out.at(-1)!)]), PROMPT.length + i));
  return out;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

for (const architecture of ['llama', 'qwen2', 'qwen3'] as LlamaArchitecture[]) {
  test(`${architecture}: layers [0,1)+[1,3)+[3,4) give bit-identical logits to [0,4)`, async () => {
    const model = tinyModel({ architecture, type: GGMLType.Q8_0 });
    const whole = runWhole(await load(model), 3);
    const sharded = runSharded([await load(model, [0, 1]), await load(model, [1, 3]), await load(model, [3, 4])], 3);
    assert.equal(sharded.length, whole.length);
    for (let i = 0; i < whole.length; i++) assert.deepEqual(sharded[i], whole[i]);
    // The logits are not degenerate (a model that ignored its weights would pass the above).
    assert.ok(whole[0]!.some((v) => Math.abs(v) > 1e-3));
    assert.notDeepEqual(whole[0], whole[1]);
  });
}

test('a prompt in chunks, whole, or token by token gives the same logits', async () => {
  const shard = await load(tinyModel({ architecture: 'qwen3' }));
  const batched = runWhole(shard, 0, 64)[0]!;
  const chunked = runWhole(shard, 0, 3)[0]!;
  assert.deepEqual(chunked, batched);
  const state = createRunState(shard, 1);
  const cache = createKvCache(shard, 64);
  let last: Float32Array = new Float32Array();
  for (let i = 0; i < PROMPT.length; i++) last = forward(shard, state, cache, PROMPT.subarray(i, i + 1), i).data;
  assert.deepEqual(last, batched);
});

test('allLogits returns one row per position, the last equal to the default', async () => {
  const shard = await load(tinyModel({ architecture: 'qwen2' }));
  const all = forward(shard, createRunState(shard, 4), createKvCache(shard, 32), PROMPT, 0, { allLogits: true });
  const last = forward(shard, createRunState(shard, 4), createKvCache(shard, 32), PROMPT, 0);
  assert.equal(all.kind, 'logits');
  assert.equal(all.rows, PROMPT.length);
  assert.deepEqual(all.data.subarray((PROMPT.length - 1) * 96), last.data);
  // Position 0's logits depend only on token 0.
  const first = forward(shard, createRunState(shard), createKvCache(shard, 32), PROMPT.subarray(0, 1), 0);
  assert.deepEqual(all.data.subarray(0, 96), first.data);
});

test('a given output array is filled and returned in place of a new one', async () => {
  const [first, second] = [await load(tinyModel({ architecture: 'qwen3' }), [0, 2]), await load(tinyModel({ architecture: 'qwen3' }), [2, 4])];
  const expected = runSharded([first, second], 2);
  // Decode steps writing their logits (last shard) and hidden states (first shard) into one array each.
  const states = [createRunState(first), createRunState(second)];
  const caches = [createKvCache(first, 64), createKvCache(second, 64)];
  const hidden = forward(first, states[0]!, caches[0]!, PROMPT, 0).data;
  const logits = forward(second, states[1]!, caches[1]!, hidden, 0).data;
  const step = new Float32Array(first.config.dim);
  for (let i = 0; i < 2; i++) {
    const position = PROMPT.length + i;
    assert.equal(forward(first, states[0]!, caches[0]!, new Int32Array([argmax(logits)]), position, { output: step }).data, step);
    assert.equal(forward(second, states[1]!, caches[1]!, step, position, { output: logits }).data, logits);
    assert.deepEqual(logits, expected[i + 1]);
  }
  assert.throws(() => forward(second, states[1]!, caches[1]!, step, 0, { output: new Float32Array(5) }), { code: 'REQUEST_INVALID' });
});

test('tied embeddings use token_embd as the output head', async () => {
  const model = tinyModel({ architecture: 'qwen3', tiedEmbeddings: true });
  const shard = await load(model);
  assert.equal(shard.weights.output, shard.weights.token_embd);
  const logits = forward(shard, createRunState(shard), createKvCache(shard, 16), PROMPT, 0).data;
  assert.equal(logits.length, 96);
  // A tied last shard that is not first reads token_embd only for its head.
  const tail = tinyModel({ architecture: 'qwen3', tiedEmbeddings: true });
  const lastShard = await load(tail, [2, 4]);
  assert.ok(lastShard.weights.output);
  assert.ok(tail.reads.includes('token_embd.weight'));
});

test('a shard reads only the tensors of its range', async () => {
  const model = tinyModel({ layers: 4 });
  const middle = await load(model, [1, 3]);
  assert.equal(middle.isFirst, false);
  assert.equal(middle.isLast, false);
  assert.deepEqual(
    [...new Set(model.reads.map((name) => name.split('.').slice(0, 2).join('.')))].sort(),
    ['blk.1', 'blk.2'],
  );
  const hidden = forward(middle, createRunState(middle), createKvCache(middle, 16), new Float32Array(3 * 64).fill(0.5), 0);
  assert.equal(hidden.kind, 'hidden');
  assert.equal(hidden.rows, 3);
  assert.equal(hidden.data.length, 3 * 64);
});

test('bad models and bad requests raise typed errors', async () => {
  const model = tinyModel();
  const withMetadata = (key: string, value: string | number): TinyModel => ({
    ...model,
    header: { ...model.header, metadata: new Map([...model.header.metadata, [key, value]]) },
  });
  await assert.rejects(load(withMetadata('general.architecture', 'mamba')), { code: 'MODEL_UNSUPPORTED_ARCHITECTURE' });
  for (const range of [[0, 5], [2, 2], [-1, 2], [3, 1]] as [number, number][]) {
    await assert.rejects(load(model, range), { code: 'LAYER_RANGE_INVALID' });
  }
  const missing = { ...model, header: { ...model.header, tensors: model.header.tensors.filter((t) => t.name !== 'blk.2.ffn_up.weight') } };
  await assert.rejects(load(missing), { code: 'MODEL_MISSING_TENSOR' });
  await load(missing, [0, 2]); // the missing tensor is outside this range
  const q4_1 = {
    ...model,
    header: { ...model.header, tensors: model.header.tensors.map((t) => (t.name === 'blk.0.attn_k.weight' ? { ...t, type: 3 } : t)) },
  };
  await assert.rejects(load(q4_1), { code: 'MODEL_UNSUPPORTED_TENSOR_TYPE' });
  const misshapen = {
    ...model,
    header: { ...model.header, tensors: model.header.tensors.map((t) => (t.name === 'blk.0.attn_q.weight' ? { ...t, dims: [64, 32] } : t)) },
  };
  await assert.rejects(load(misshapen), { code: 'GGUF_INVALID' });

  const shard = await load(model);
  const state = createRunState(shard);
  const cache = createKvCache(shard, 12);
  assert.throws(() => forward(shard, state, cache, PROMPT, 3), { code: 'CONTEXT_OVERFLOW' });
  assert.throws(() => forward(shard, state, cache, new Int32Array([96]), 0), { code: 'REQUEST_INVALID' });
  assert.throws(() => forward(shard, state, cache, new Float32Array(64), 0), { code: 'REQUEST_INVALID' });
});
