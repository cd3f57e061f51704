import test from 'node:test';
import assert from 'node:assert/strict';
import { ReferenceBackend } from './reference-backend.js';
import { quantize } from '../gguf/quant.js';
import { GGMLType } from '../gguf/types.js';

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function close(actual: Float32Array, expected: number[], tolerance = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `[${i}] ${actual[i]} != ${expected[i]}`);
  }
}

test('matmul computes W x for each token row (F32)', () => {
  const backend = new ReferenceBackend();
  // W: 2 rows x 3 cols.
  const w = backend.uploadWeight(GGMLType.F32, 2, 3, f32Bytes([1, 2, 3, -1, 0, 1]));
  const x = backend.alloc(6);
  backend.write(x, new Float32Array([1, 1, 1, 2, 0, -1]));
  const out = backend.alloc(4);
  backend.matmul(out, w, x, 2);
  close(backend.read(out), [6, 0, -1, -3]);
});

test('matmul decodes quantized rows (Q8_0 equals its dequantized F32)', () => {
  const backend = new ReferenceBackend();
  const values = new Float32Array(64).map((_, i) => Math.sin(i) * 0.5);
  const q = quantize(GGMLType.Q8_0, values);
  const wq = backend.uploadWeight(GGMLType.Q8_0, 2, 32, q);
  const x = backend.alloc(32);
  backend.write(x, new Float32Array(32).fill(1));
  const out = backend.alloc(2);
  backend.matmul(out, wq, x, 1);
  const sums = [0, 0];
  for (let i = 0; i < 64; i++) sums[i < 32 ? 0 : 1] += values[i]!;
  close(backend.read(out), sums, 0.05);
});

test('embed copies the decoded row of each token', () => {
  const backend = new ReferenceBackend();
  const table = backend.uploadWeight(GGMLType.F32, 3, 2, f32Bytes([0, 1, 10, 11, 20, 21]));
  const out = backend.alloc(4);
  backend.embed(out, table, new Int32Array([2, 0]));
  close(backend.read(out), [20, 21, 0, 1]);
  assert.throws(() => backend.embed(out, table, new Int32Array([3])), RangeError);
});

test('rmsnorm scales each row to unit rms times the gain', () => {
  const backend = new ReferenceBackend();
  const x = backend.alloc(4);
  backend.write(x, new Float32Array([3, 4, 1, 1]));
  const gain = backend.alloc(2);
  backend.write(gain, new Float32Array([1, 2]));
  backend.rmsnorm(x, x, gain, 2, 0);
  const rms = Math.sqrt(12.5);
  close(backend.read(x), [3 / rms, 8 / rms, 1, 2]);
});

test('rope rotates neighbouring pairs (normal) or halves (neox)', () => {
  const backend = new ReferenceBackend();
  // One head of dim 4 at position 1, theta 10000: pair 0 turns by 1 rad, pair 1 by 0.01 rad.
  const normal = backend.alloc(4);
  backend.write(normal, new Float32Array([1, 0, 1, 0]));
  backend.rope(normal, 1, 1, 4, 1, 10000, 'normal');
  close(backend.read(normal), [Math.cos(1), Math.sin(1), Math.cos(0.01), Math.sin(0.01)]);
  const neox = backend.alloc(4);
  backend.write(neox, new Float32Array([1, 1, 0, 0]));
  backend.rope(neox, 1, 1, 4, 1, 10000, 'neox');
  close(backend.read(neox), [Math.cos(1), Math.cos(0.01), Math.sin(1), Math.sin(0.01)]);
  // Position 0 leaves x unchanged.
  const still = backend.alloc(4);
  backend.write(still, new Float32Array([1, 2, 3, 4]));
  backend.rope(still, 1, 1, 4, 0, 10000, 'neox');
  close(backend.read(still), [1, 2, 3, 4]);
  // Frequency factors divide each pair's angle: factors [2, 4] turn the pairs by 0.5 and 0.0025 rad.
  const factored = backend.alloc(4);
  const factors = backend.alloc(2);
  backend.write(factored, new Float32Array([1, 0, 1, 0]));
  backend.write(factors, new Float32Array([2, 4]));
  backend.rope(factored, 1, 1, 4, 1, 10000, 'normal', factors);
  close(backend.read(factored), [Math.cos(0.5), Math.sin(0.5), Math.cos(0.0025), Math.sin(0.0025)]);
});

test('attention is causal and shares kv heads across query heads', () => {
  const backend = new ReferenceBackend();
  // 2 query heads, 1 kv head, head dim 2, 2 tokens from position 0.
  const keys = backend.alloc(4);
  const values = backend.alloc(4);
  backend.write(keys, new Float32Array([0, 0, 0, 0])); // equal scores: a plain average
  backend.write(values, new Float32Array([1, 2, 3, 4]));
  const q = backend.alloc(8);
  backend.write(q, new Float32Array([1, 1, 5, 5, 1, 1, 5, 5]));
  const out = backend.alloc(8);
  backend.attention(out, q, keys, values, { nHeads: 2, nKvHeads: 1, headDim: 2, startPosition: 0, nTokens: 2, scale: 1 });
  // Token 0 sees only position 0; token 1 averages positions 0 and 1.
  close(backend.read(out), [1, 2, 1, 2, 2, 3, 2, 3]);
  // With keys that favour position 1, token 1 leans to its value.
  backend.write(keys, new Float32Array([0, 0, 10, 10]));
  backend.attention(out, q, keys, values, { nHeads: 2, nKvHeads: 1, headDim: 2, startPosition: 0, nTokens: 2, scale: 1 });
  const read = backend.read(out);
  assert.ok(read[4]! > 2.99 && read[6]! > 2.99);
});

test('swiglu, add and addBias are elementwise', () => {
  const backend = new ReferenceBackend();
  const gate = backend.alloc(2);
  const up = backend.alloc(2);
  backend.write(gate, new Float32Array([0, 2]));
  backend.write(up, new Float32Array([5, 3]));
  const out = backend.alloc(2);
  backend.swiglu(out, gate, up, 2);
  close(backend.read(out), [0, (2 / (1 + Math.exp(-2))) * 3]);
  backend.add(out, gate, up, 2);
  close(backend.read(out), [5, 5]);
  const bias = backend.alloc(1);
  backend.write(bias, new Float32Array([0.5]));
  backend.addBias(out, bias, 2);
  close(backend.read(out), [5.5, 5.5]);
});

test('copy and read move element ranges', () => {
  const backend = new ReferenceBackend();
  const a = backend.alloc(4);
  const b = backend.alloc(4);
  backend.write(a, new Float32Array([1, 2, 3, 4]));
  backend.copy(b, 1, a, 2, 2);
  close(backend.read(b), [0, 3, 4, 0]);
  close(backend.read(b, 1, 2), [3, 4]);
  backend.dispose();
  assert.throws(() => backend.alloc(1), { code: 'ENGINE_CLOSED' });
});
