// The forward pass on the WASM backend's own paths: weights streamed from the file in pieces
// straight into wasm memory, and the f16 KV cache, each against the plain path it replaces.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GGMLType } from '../gguf/types.js';
import { WasmBackend } from '../kernels/wasm-backend.js';
import { createKvCache, createRunState, forward, loadShard, type LlamaShard } from './llama.js';
import { tinyModel } from './tiny-model.fixture.js';

const PROMPT = new Int32Array([1, 17, 42, 5, 88, 3, 60, 61, 9, 30, 2, 77]);

let backend: WasmBackend;
before(async () => {
  backend = await WasmBackend.create({ threads: 2 });
});
after(() => backend.dispose());

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

function logits(shard: LlamaShard, precision: 'f16' | 'f32'): Float32Array {
  const cache = createKvCache(shard, 32, precision);
  assert.equal(cache.precision, precision);
  forward(shard, createRunState(shard, 5), cache, PROMPT, 0);
  return forward(shard, createRunState(shard, 5), cache, new Int32Array([7]), PROMPT.length).data;
}

for (const type of [GGMLType.Q8_0, GGMLType.F32]) {
  test(`${GGMLType[type]} weights streamed in pieces give the same logits as whole tensors`, async () => {
    const model = tinyModel({ architecture: 'qwen3', type, vocab: 300 });
    const whole = await loadShard({ header: model.header, readTensor: model.readTensor, backend });
    const ranges: number[] = [];
    let intoJsMemory = 0;
    const streamed = await loadShard({
      header: model.header,
      backend,
      readTensor: model.readTensor,
      // Pieces of a few rows, so every matrix arrives in several.
      pieceBytes: 700,
      readTensorRange: async (tensor, offset, target) => {
        ranges.push(target.length);
        if (!(target.buffer instanceof SharedArrayBuffer)) intoJsMemory++;
        target.set((await model.readTensor(tensor)).subarray(offset, offset + target.length));
      },
    });
    assert.ok(ranges.length > 2 * model.header.tensors.length, `${ranges.length} pieces`);
    assert.ok(Math.max(...ranges) <= 1024);
    // The backend lends its memory: every piece was read straight into wasm memory.
    assert.equal(intoJsMemory, 0);
    assert.deepEqual(logits(streamed, 'f32'), logits(whole, 'f32'));
  });
}

test('an f16 KV cache stays close to an f32 one', async () => {
  const model = tinyModel({ architecture: 'llama', type: GGMLType.F32, vocab: 300 });
  const shard = await loadShard({ header: model.header, readTensor: model.readTensor, backend });
  const half = logits(shard, 'f16');
  const full = logits(shard, 'f32');
  assert.notDeepEqual(half, full);
  assert.ok(cosine(half, full) > 0.99999, `cosine ${cosine(half, full)}`);
});
