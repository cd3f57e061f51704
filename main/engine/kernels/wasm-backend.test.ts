import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isTesseraError } from '../../../shared/errors.js';
import type { Weight } from '../backend.js';
import { f16ToF32, f32ToF16 } from '../gguf/half.js';
import { dequantize, quantize } from '../gguf/quant.js';
import { GGML_BLOCK, GGMLType } from '../gguf/types.js';
import {
  attentionReference, dequantizeReference, matmulReference, randomWeightBytes, rmsnormReference, ropeReference, swigluReference,
} from './scalar-reference.js';
import { relaxedSimdSupported, type KernelVariant } from './load-kernels.js';
import { WasmBackend } from './wasm-backend.js';
import { createRandom } from '../sampling/random.js';

/** Deterministic uniform [0, 1) numbers (the sampler's mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  const source = createRandom(seed);
  return () => source.next();
}

function randomVector(length: number, random: () => number): Float32Array {
  return Float32Array.from({ length }, () => random() * 2 - 1);
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let difference = 0, norm = 0;
  for (let i = 0; i < expected.length; i++) {
    difference += (actual[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return Math.sqrt(difference / norm);
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const allowed = tolerance * Math.max(1, Math.abs(expected[i]!));
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= allowed, `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Two uploads of the same weight give bit-identical products with x (nTokens rows). */
function assertSameProducts(backend: WasmBackend, expected: Weight, actual: Weight, x: Float32Array, nTokens: number): void {
  const xBuffer = backend.alloc(x.length), a = backend.alloc(nTokens * expected.rows), b = backend.alloc(nTokens * actual.rows);
  backend.write(xBuffer, x);
  backend.matmul(a, expected, xBuffer, nTokens);
  backend.matmul(b, actual, xBuffer, nTokens);
  assert.deepEqual(backend.read(b), backend.read(a));
}

const FLOAT_TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.BF16];
const QUANTIZED_TYPES = [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K];

// Both kernel builds where the runtime has relaxed SIMD (Node 20 does, behind a flag load-kernels sets).
const VARIANTS: readonly KernelVariant[] = relaxedSimdSupported() ? ['simd', 'relaxed-simd'] : ['simd'];

for (const variant of VARIANTS) describe(`WasmBackend (${variant} kernels)`, () => {
  let backend: WasmBackend;
  before(async () => {
    // 3 lanes on any machine, so row splits that do not divide evenly are exercised.
    backend = await WasmBackend.create({ threads: 3, kernels: variant });
    assert.equal(backend.kernelVariant, variant);
  });
  after(() => backend.dispose());

  for (const type of [...FLOAT_TYPES, ...QUANTIZED_TYPES]) {
    // 37 rows stays on the calling thread; 263 rows x 512 is split over lanes (odd share sizes).
    // 6 and 9 tokens run the four-token tiles plus a remainder of 2 and 1.
    for (const rows of [37, 263]) {
      for (const nTokens of rows === 37 ? [1, 9] : [1, 6]) {
        test(`matmul ${GGMLType[type]} ${rows}x512 with ${nTokens} token(s) matches the scalar reference`, () => {
          const cols = 512;
          const random = seeded(rows * 31 + nTokens * 7 + type);
          const bytes = randomWeightBytes(type, rows, cols, random);
          const weights = dequantizeReference(type, bytes, rows * cols);
          const x = randomVector(nTokens * cols, random);
          const weight = backend.uploadWeight(type, rows, cols, bytes);
          const input = backend.alloc(nTokens * cols);
          const out = backend.alloc(nTokens * rows);
          backend.write(input, x);
          backend.matmul(out, weight, input, nTokens);
          const expected = matmulReference(weights, rows, cols, x, nTokens);
          const error = relativeError(backend.read(out), expected);
          // Float weights see exact f32 arithmetic; quantized ones see x rounded to int8 blocks.
          assert.ok(error < (FLOAT_TYPES.includes(type) ? 1e-6 : 1e-2), `relative error ${error}`);
        });
      }
    }
  }

  // Rows of 96 and 160 values (3 and 5 blocks of 32) leave the Q8_0 prefill tile, which reads its
  // block scales four at a time, a remainder; 17 rows leave its row pairs an odd row.
  for (const cols of [96, 160]) {
    test(`matmul Q8_0 17x${cols} with 9 tokens matches the scalar reference`, () => {
      const rows = 17, nTokens = 9, random = seeded(cols);
      const bytes = randomWeightBytes(GGMLType.Q8_0, rows, cols, random);
      const x = randomVector(nTokens * cols, random);
      const weight = backend.uploadWeight(GGMLType.Q8_0, rows, cols, bytes);
      const input = backend.alloc(nTokens * cols), out = backend.alloc(nTokens * rows);
      backend.write(input, x);
      backend.matmul(out, weight, input, nTokens);
      const expected = matmulReference(dequantizeReference(GGMLType.Q8_0, bytes, rows * cols), rows, cols, x, nTokens);
      const error = relativeError(backend.read(out), expected);
      assert.ok(error < 1e-2, `relative error ${error}`);
    });
  }

  // Q8_0 rows are stored interleaved by groups of eight: rows written in pieces that cut groups,
  // weights of odd heights fused into one op (their groups dealt out across lanes), and embed
  // reading single rows back out of the groups.
  test('Q8_0 weights written in pieces that split row groups compute and embed like whole ones', () => {
    const cols = 256, nTokens = 7, random = seeded(808);
    const heights = [21, 13, 40];
    const x = randomVector(nTokens * cols, random);
    const input = backend.alloc(nTokens * cols);
    backend.write(input, x);
    const rowBytes = (cols / 32) * 34;
    const uploaded = heights.map((rows) => {
      const bytes = randomWeightBytes(GGMLType.Q8_0, rows, cols, random);
      const writer = backend.beginWeight(GGMLType.Q8_0, rows, cols);
      for (const [from, to] of [[0, 3], [3, 11], [11, rows]] as const) writer.writeRows(from, bytes.subarray(from * rowBytes, to * rowBytes));
      const weights = dequantizeReference(GGMLType.Q8_0, bytes, rows * cols);
      return { weight: writer.weight, weights, rows, out: backend.alloc(nTokens * rows) };
    });
    backend.matmulShared(uploaded.map((u) => u.out), uploaded.map((u) => u.weight), input, nTokens);
    for (const u of uploaded) {
      const error = relativeError(backend.read(u.out), matmulReference(u.weights, u.rows, cols, x, nTokens));
      assert.ok(error < 1e-2, `${u.rows} rows: relative error ${error}`);
    }
    const { weight, weights } = uploaded[0]!;
    const tokens = Int32Array.from([20, 0, 7, 8, 15]);
    const rows = backend.alloc(tokens.length * cols);
    backend.embed(rows, weight, tokens);
    const expected = new Float32Array(tokens.length * cols);
    tokens.forEach((token, i) => expected.set(weights.subarray(token * cols, (token + 1) * cols), i * cols));
    assertClose(backend.read(rows), expected, 1e-6, 'embed');
  });

  // K-quant super-block scales are often f16 subnormals in real models; the kernels convert them
  // without subnormal float arithmetic, which must still give their exact values.
  const SCALE_OFFSETS: ReadonlyMap<GGMLType, readonly number[]> = new Map([
    [GGMLType.Q8_0, [0]], [GGMLType.Q4_0, [0]], [GGMLType.Q4_K, [0, 2]], [GGMLType.Q6_K, [208]], [GGMLType.F16, [0]],
  ]);
  for (const [type, offsets] of SCALE_OFFSETS) {
    test(`matmul ${GGMLType[type]} with subnormal f16 scales matches the scalar reference`, () => {
      const rows = 19, cols = 512, random = seeded(type + 900);
      const bytes = randomWeightBytes(type, rows, cols, random);
      const blockBytes = type === GGMLType.F16 ? 2 : GGML_BLOCK[type].bytes;
      const subnormals = [0x0001, 0x03ff, 0x8200, 0x0094, 0x0000, 0x8001, 0x0155, 0x83c0];
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let block = 0, n = 0; block * blockBytes < bytes.length; block++) {
        for (const offset of offsets) view.setUint16(block * blockBytes + offset, subnormals[n++ % subnormals.length]!, true);
      }
      const nTokens = type === GGMLType.F16 ? 2 : 5;
      const x = randomVector(nTokens * cols, random);
      for (const tokens of [1, nTokens]) {
        const weight = backend.uploadWeight(type, rows, cols, bytes);
        const input = backend.alloc(tokens * cols), out = backend.alloc(tokens * rows);
        backend.write(input, x.subarray(0, tokens * cols));
        backend.matmul(out, weight, input, tokens);
        const expected = matmulReference(dequantizeReference(type, bytes, rows * cols), rows, cols, x.subarray(0, tokens * cols), tokens);
        const error = relativeError(backend.read(out), expected);
        // F16: exact weights, f32 sums in another order than the reference's over heavy cancellation.
        assert.ok(error < (type === GGMLType.F16 ? 1e-5 : 1e-2), `${tokens} token(s): relative error ${error}`);
      }
    });
  }

  test('matmul with float weights handles columns that are not a multiple of 8', () => {
    const rows = 5, cols = 13, random = seeded(3);
    const w = randomVector(rows * cols, random);
    const x = randomVector(2 * cols, random);
    const weight = backend.uploadWeight(GGMLType.F32, rows, cols, new Uint8Array(w.buffer));
    const input = backend.alloc(2 * cols), out = backend.alloc(2 * rows);
    backend.write(input, x);
    backend.matmul(out, weight, input, 2);
    assertClose(backend.read(out), matmulReference(w, rows, cols, x, 2), 1e-6, 'matmul');
  });

  for (const type of [...FLOAT_TYPES, ...QUANTIZED_TYPES]) {
    test(`embed ${GGMLType[type]} copies dequantized rows`, () => {
      const rows = 11, cols = 256, random = seeded(type + 100);
      const bytes = randomWeightBytes(type, rows, cols, random);
      const table = dequantizeReference(type, bytes, rows * cols);
      const weight = backend.uploadWeight(type, rows, cols, bytes);
      const tokens = Int32Array.from([3, 0, 10, 3]);
      const out = backend.alloc(tokens.length * cols);
      backend.embed(out, weight, tokens);
      const expected = new Float32Array(tokens.length * cols);
      tokens.forEach((token, t) => expected.set(table.subarray(token * cols, (token + 1) * cols), t * cols));
      assertClose(backend.read(out), expected, 1e-6, 'embed');
    });
  }

  test('swiglu stays finite and exact in shape for gates far outside the exp range', () => {
    const gate = Float32Array.from([-1e30, -1000, -100, -88.5, -87, -20, -1e-30, 0, 1e-30, 20, 87, 88.5, 100, 1000, 1e30]);
    const up = Float32Array.from(gate, (_, i) => (i % 3) - 1.5);
    const g = backend.alloc(gate.length), u = backend.alloc(gate.length), out = backend.alloc(gate.length);
    backend.write(g, gate);
    backend.write(u, up);
    backend.swiglu(out, g, u, gate.length);
    assertClose(backend.read(out), swigluReference(gate, up), 1e-6, 'swiglu at the extremes');
  });

  for (const nRows of [1, 70]) {
    test(`rmsnorm over ${nRows} row(s), in place`, () => {
      const width = 1000, random = seeded(nRows);
      const x = randomVector(nRows * width, random), gain = randomVector(width, random);
      const buffer = backend.alloc(nRows * width), g = backend.alloc(width);
      backend.write(buffer, x);
      backend.write(g, gain);
      backend.rmsnorm(buffer, buffer, g, nRows, 1e-6);
      assertClose(backend.read(buffer), rmsnormReference(x, gain, nRows, 1e-6), 1e-5, 'rmsnorm');
    });

    test(`add, addBias and swiglu over ${nRows} row(s)`, () => {
      const width = 1001, random = seeded(nRows + 50), length = nRows * width;
      const a = randomVector(length, random), b = randomVector(length, random), bias = randomVector(width, random);
      const bufferA = backend.alloc(length), bufferB = backend.alloc(length), out = backend.alloc(length), biasBuffer = backend.alloc(width);
      backend.write(bufferA, a);
      backend.write(bufferB, b);
      backend.write(biasBuffer, bias);
      backend.add(out, bufferA, bufferB, length);
      assertClose(backend.read(out), a.map((v, i) => v + b[i]!), 0, 'add');
      backend.swiglu(out, bufferA, bufferB, length);
      assertClose(backend.read(out), swigluReference(a, b), 1e-6, 'swiglu');
      backend.addBias(bufferA, biasBuffer, nRows);
      assertClose(backend.read(bufferA), a.map((v, i) => v + bias[i % width]!), 0, 'addBias');
    });
  }

  for (const style of ['normal', 'neox'] as const) {
    for (const nTokens of [1, 40]) {
      test(`rope ${style} over ${nTokens} token(s)`, () => {
        const nHeads = 8, headDim = 128, random = seeded(nTokens);
        const x = randomVector(nTokens * nHeads * headDim, random);
        const buffer = backend.alloc(x.length);
        backend.write(buffer, x);
        backend.rope(buffer, nTokens, nHeads, headDim, 17, 1_000_000, style);
        assertClose(backend.read(buffer), ropeReference(x, nTokens, nHeads, headDim, 17, 1_000_000, style), 1e-5, 'rope');
      });
      test(`rope ${style} with frequency factors over ${nTokens} token(s)`, () => {
        const nHeads = 4, headDim = 64, random = seeded(nTokens + 7);
        const x = randomVector(nTokens * nHeads * headDim, random);
        // Llama 3 style: 1 for high frequencies, up to 32 for low ones.
        const factors = Float32Array.from({ length: headDim / 2 }, (_, i) => 1 + (31 * i) / (headDim / 2 - 1));
        const buffer = backend.alloc(x.length), factorBuffer = backend.alloc(factors.length);
        backend.write(buffer, x);
        backend.write(factorBuffer, factors);
        backend.rope(buffer, nTokens, nHeads, headDim, 300, 500_000, style, factorBuffer);
        const expected = ropeReference(x, nTokens, nHeads, headDim, 300, 500_000, style, factors);
        assertClose(backend.read(buffer), expected, 1e-5, 'rope with factors');
        assert.ok(expected.some((v, i) => Math.abs(v - ropeReference(x, nTokens, nHeads, headDim, 300, 500_000, style)[i]!) > 1e-3), 'the factors change the result');
      });
    }
  }

  /**
   * A KV cache of `data` ([positions, nKvHeads * headDim], as the model computes keys) with room for
   * 11 positions more than it holds, filled through storeKv in two calls.
   */
  const cacheOf = (data: Float32Array, precision: 'f16' | 'f32', nKvHeads: number, headDim: number) => {
    const width = nKvHeads * headDim, positions = data.length / width;
    const cache = precision === 'f16' ? backend.allocHalf((positions + 11) * width) : backend.alloc((positions + 11) * width);
    const source = backend.alloc(data.length);
    backend.write(source, data);
    const first = Math.max(1, Math.floor(positions / 2));
    backend.storeKv(cache, source, 0, first, nKvHeads, headDim);
    if (positions > first) {
      const rest = backend.alloc((positions - first) * width);
      backend.write(rest, data.subarray(first * width));
      backend.storeKv(cache, rest, first, positions - first, nKvHeads, headDim);
    }
    return cache;
  };

  for (const precision of ['f32', 'f16'] as const) {
    test(`storeKv lays an ${precision} cache out head by head and keeps its bounds`, () => {
      const nKvHeads = 3, headDim = 4, capacity = 5;
      // Token t, kv head h, dimension i holds 100 t + 10 h + i (exact in f16).
      const rows = (first: number, count: number) =>
        Float32Array.from({ length: count * nKvHeads * headDim }, (_, j) => 100 * (first + Math.floor(j / (nKvHeads * headDim))) + 10 * Math.floor((j % (nKvHeads * headDim)) / headDim) + (j % headDim));
      const cache = precision === 'f16' ? backend.allocHalf(capacity * nKvHeads * headDim) : backend.alloc(capacity * nKvHeads * headDim);
      const source = backend.alloc(2 * nKvHeads * headDim);
      backend.write(source, rows(1, 2));
      backend.storeKv(cache, source, 1, 2, nKvHeads, headDim);
      const expected = new Float32Array(capacity * nKvHeads * headDim);
      for (let h = 0; h < nKvHeads; h++) {
        for (const t of [1, 2]) for (let i = 0; i < headDim; i++) expected[(h * capacity + t) * headDim + i] = 100 * t + 10 * h + i;
      }
      assert.deepEqual([...backend.read(cache)], [...expected]);
      assert.throws(() => backend.storeKv(cache, source, 4, 2, nKvHeads, headDim), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
      assert.throws(() => backend.storeKv(cache, source, 0, 2, 2, headDim), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
    });
  }

  for (const [nTokens, startPosition, nHeads] of [[1, 0, 8], [1, 300, 8], [9, 5, 8], [33, 0, 8], [9, 5, 6], [1, 300, 6]] as const) {
    test(`attention (GQA ${nHeads}/2 heads) for ${nTokens} token(s) from position ${startPosition}`, () => {
      const shape = { nHeads, nKvHeads: 2, headDim: 64, startPosition, nTokens, scale: 1 / 8 };
      const random = seeded(nTokens * 1000 + startPosition);
      const context = startPosition + nTokens;
      const q = randomVector(nTokens * shape.nHeads * shape.headDim, random);
      const keys = randomVector(context * shape.nKvHeads * shape.headDim, random).map((v) => v * 4);
      const values = randomVector(context * shape.nKvHeads * shape.headDim, random);
      const qBuffer = backend.alloc(q.length);
      backend.write(qBuffer, q);
      const [kBuffer, vBuffer] = [keys, values].map((data) => cacheOf(data, 'f32', shape.nKvHeads, shape.headDim));
      const out = backend.alloc(q.length);
      backend.attention(out, qBuffer, kBuffer!, vBuffer!, shape);
      assertClose(backend.read(out), attentionReference(q, keys, values, shape), 1e-5, 'attention');
    });
  }

  test('an f16 buffer rounds to nearest even, keeps subnormals, and saturates to infinity', () => {
    const values = Float32Array.from([0, -0, 1, -2.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65520, 1e6, 2 ** -24, 3 * 2 ** -25, 2 ** -20, -1e-9]);
    const expected = dequantize(GGMLType.F16, quantize(GGMLType.F16, values), values.length);
    const source = backend.alloc(values.length + 3), half = backend.allocHalf(values.length + 5);
    backend.write(source, values, 3);
    backend.copy(half, 5, source, 3, values.length);
    // 1 + 2^-11 is a tie and rounds to even (1); 1 + 3 * 2^-11 rounds up; 65520 overflows.
    assert.deepEqual([...backend.read(half, 5)], [0, -0, 1, -2.5, 1, 1 + 2 ** -9, 65504, Infinity, Infinity, 2 ** -24, 2 ** -23, 2 ** -20, -0]);
    assert.deepEqual([...backend.read(half, 5)].slice(0, 7), [...expected].slice(0, 7));
    assert.throws(() => backend.rmsnorm(half, half, source, 1, 1e-5), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
  });

  test('f16 rounding agrees with the JavaScript conversion over every range, eight lanes at a time and in the tail', () => {
    // Long enough that each lane runs its eight-wide loop and a scalar tail; every exponent from
    // below f16's subnormals to past its overflow, both signs, ties, infinities and NaN.
    const random = seeded(1602);
    const special = [0, -0, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519.99, 65520, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -14, 2 ** -14 - 2 ** -25, Infinity, -Infinity, NaN];
    const values = Float32Array.from({ length: 4099 }, (_, i) =>
      i < special.length ? special[i]! : (random() < 0.5 ? -1 : 1) * (1 + random()) * 2 ** Math.floor(random() * 50 - 30));
    const source = backend.alloc(values.length + 1), half = backend.allocHalf(values.length);
    backend.write(source, values, 1);
    backend.copy(half, 0, source, 1, values.length);
    assert.deepEqual([...backend.read(half)], [...values].map((v) => f16ToF32(f32ToF16(v))));
  });

  // 8/2 heads run query heads in pairs; 6/2 (three per kv head) a pair and a single head.
  // The last three span several blocks of positions (BLOCKED_ATTENTION_POSITIONS, 512), 40 from
  // 1000 with tokens whose rows end a block before the others'.
  for (const [nTokens, startPosition, headDim, nHeads] of [[1, 200, 64, 8], [17, 3, 64, 8], [5, 9, 36, 8], [1, 50, 64, 6], [7, 4, 36, 6], [9, 1100, 64, 8], [40, 1000, 36, 6], [6, 600, 36, 6]] as const) {
    test(`attention over an f16 KV cache for ${nTokens} token(s) from position ${startPosition}, head size ${headDim}, ${nHeads}/2 heads`, () => {
      const shape = { nHeads, nKvHeads: 2, headDim, startPosition, nTokens, scale: 1 / 8 };
      const random = seeded(nTokens * 77 + startPosition);
      const context = startPosition + nTokens;
      const q = randomVector(nTokens * shape.nHeads * shape.headDim, random);
      const keys = randomVector(context * shape.nKvHeads * shape.headDim, random).map((v) => v * 4);
      const values = randomVector(context * shape.nKvHeads * shape.headDim, random);
      const qBuffer = backend.alloc(q.length);
      backend.write(qBuffer, q);
      const [kBuffer, vBuffer] = [keys, values].map((data) => cacheOf(data, 'f16', shape.nKvHeads, shape.headDim));
      const out = backend.alloc(q.length);
      backend.attention(out, qBuffer, kBuffer!, vBuffer!, shape);
      // The same attention over the values as f16 holds them.
      const rounded = (data: Float32Array) => dequantize(GGMLType.F16, quantize(GGMLType.F16, data), data.length);
      assertClose(backend.read(out), attentionReference(q, rounded(keys), rounded(values), shape), 1e-5, 'attention f16');
    });
  }

  for (const type of [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.F16]) {
    test(`a ${GGMLType[type]} weight written in row ranges equals one uploaded whole`, () => {
      const rows = 40, cols = 512, random = seeded(type + 300);
      const bytes = randomWeightBytes(type, rows, cols, random);
      const whole = backend.uploadWeight(type, rows, cols, bytes);
      const writer = backend.beginWeight(type, rows, cols);
      const rowBytes = bytes.length / rows;
      // Out of order and uneven, from a reused buffer, as a loader streaming the file does.
      const scratch = new Uint8Array(bytes.length);
      for (const [first, count] of [[25, 15], [0, 7], [7, 18]] as const) {
        const part = scratch.subarray(0, count * rowBytes);
        part.set(bytes.subarray(first * rowBytes, (first + count) * rowBytes));
        writer.writeRows(first, part);
      }
      assertSameProducts(backend, whole, writer.weight, randomVector(2 * cols, random), 2);
      assert.throws(() => writer.writeRows(39, bytes.subarray(0, 2 * rowBytes)), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
    });
  }

  for (const type of [GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.F32]) {
    test(`a ${GGMLType[type]} weight read into the backend's own row buffers equals one uploaded whole`, () => {
      const rows = 40, cols = 512, random = seeded(type + 400);
      const bytes = randomWeightBytes(type, rows, cols, random);
      const whole = backend.uploadWeight(type, rows, cols, bytes);
      const writer = backend.beginWeight(type, rows, cols);
      const rowBytes = bytes.length / rows;
      for (let row = 0; row < rows; ) {
        const part = writer.rowsBuffer!(row, Math.min(16, rows - row));
        // wasm memory itself, not a copy a loader would have to make.
        assert.ok(part.buffer instanceof SharedArrayBuffer);
        assert.equal(part.length % rowBytes, 0);
        part.set(bytes.subarray(row * rowBytes, row * rowBytes + part.length));
        writer.writeRows(row, part);
        row += part.length / rowBytes;
      }
      assertSameProducts(backend, whole, writer.weight, randomVector(3 * cols, random), 3);
      assert.throws(() => writer.rowsBuffer!(39, 2), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
    });
  }

  test('read, write and copy move elements at offsets', () => {
    const a = backend.alloc(10), b = backend.alloc(10);
    backend.write(a, Float32Array.from([1, 2, 3]), 4);
    backend.copy(b, 1, a, 4, 3);
    assert.deepEqual([...backend.read(b, 0, 5)], [0, 1, 2, 3, 0]);
    const target = new Float32Array(3);
    assert.equal(backend.read(b, 1, 3, target), target);
    assert.deepEqual([...target], [1, 2, 3]);
    assert.throws(() => backend.read(b, 0, 4, target), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
    assert.throws(() => backend.read(a, 8, 3), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
  });

  test('uploadWeight rejects wrong sizes and unsupported types with codes', () => {
    assert.throws(() => backend.uploadWeight(GGMLType.Q8_0, 2, 64, new Uint8Array(10)), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
    assert.throws(() => backend.uploadWeight(GGMLType.Q4_K, 2, 100, new Uint8Array(0)), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
    assert.throws(() => backend.uploadWeight(99 as GGMLType, 2, 64, new Uint8Array(0)), (error) => isTesseraError(error, 'MODEL_UNSUPPORTED_TENSOR_TYPE'));
  });

  test('embed rejects a token outside the table', () => {
    const weight = backend.uploadWeight(GGMLType.F32, 2, 4, new Uint8Array(32));
    assert.throws(() => backend.embed(backend.alloc(4), weight, Int32Array.from([2])), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
  });

  test('matmulShared runs q/k/v-like weights (Q4_K, Q4_K, Q6_K) in one op and mixed forms apart', () => {
    const cols = 768, nTokens = 5, random = seeded(77);
    const specs = [[GGMLType.Q4_K, 200], [GGMLType.Q4_K, 64], [GGMLType.Q6_K, 64], [GGMLType.Q8_0, 33]] as const;
    const x = randomVector(nTokens * cols, random);
    const input = backend.alloc(nTokens * cols);
    backend.write(input, x);
    const uploaded = specs.map(([type, rows]) => {
      const bytes = randomWeightBytes(type, rows, cols, random);
      return { weight: backend.uploadWeight(type, rows, cols, bytes), expected: matmulReference(dequantizeReference(type, bytes, rows * cols), rows, cols, x, nTokens), out: backend.alloc(nTokens * rows) };
    });
    backend.matmulShared(uploaded.map((u) => u.out), uploaded.map((u) => u.weight), input, nTokens);
    for (const u of uploaded) assert.ok(relativeError(backend.read(u.out), u.expected) < 1e-2);
    assert.throws(() => backend.matmulShared([uploaded[0]!.out], [uploaded[0]!.weight, uploaded[1]!.weight], input, nTokens), (error) => isTesseraError(error, 'KERNEL_BAD_ARGUMENT'));
  });
});

describe('WasmBackend over several arenas', () => {
  let backend: WasmBackend;
  const lentRows = (type: GGMLType, rows: number, cols: number, bytes: Uint8Array) => {
    const writer = backend.beginWeight(type, rows, cols);
    const rowBytes = bytes.length / rows;
    for (let row = 0; row < rows; ) {
      const part = writer.rowsBuffer!(row, Math.min(100, rows - row));
      part.set(bytes.subarray(row * rowBytes, row * rowBytes + part.length));
      writer.writeRows(row, part);
      row += part.length / rowBytes;
    }
    return writer.weight;
  };
  before(async () => {
    // 1 MiB arenas and 300 KB of weights in arena 0 stand in for 4 GiB and 2 GiB.
    backend = await WasmBackend.create({ threads: 2, maxArenaBytes: 1 << 20, firstArenaWeightBytes: 300_000 });
  });
  after(() => backend.dispose());

  test('weights past the first arena\'s budget go to further arenas and compute the same', () => {
    const cols = 1024, random = seeded(5);
    const types = [GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q6_K, GGMLType.F16, GGMLType.Q4_0, GGMLType.Q8_0, GGMLType.Q4_K];
    const nTokens = 3;
    const x = randomVector(nTokens * cols, random);
    const input = backend.alloc(nTokens * cols);
    backend.write(input, x);
    const arenas = new Set<number>();
    types.forEach((type, i) => {
      const rows = 260;
      const bytes = randomWeightBytes(type, rows, cols, random);
      // Every other weight is read into the row buffers its arena lends, as the loader does.
      const weight = i % 2 === 0 ? backend.uploadWeight(type, rows, cols, bytes) : lentRows(type, rows, cols, bytes);
      arenas.add(backend.arenaOf(weight));
      const out = backend.alloc(nTokens * rows);
      backend.matmul(out, weight, input, nTokens);
      const expected = matmulReference(dequantizeReference(type, bytes, rows * cols), rows, cols, x, nTokens);
      assert.ok(relativeError(backend.read(out), expected) < (type === GGMLType.F16 ? 1e-6 : 1e-2), `${GGMLType[type]} in arena ${backend.arenaOf(weight)}`);
      const table = dequantizeReference(type, bytes, rows * cols);
      const embedded = backend.alloc(2 * cols);
      backend.embed(embedded, weight, Int32Array.from([259, 4]));
      assertClose(backend.read(embedded), Float32Array.from([...table.subarray(259 * cols, 260 * cols), ...table.subarray(4 * cols, 5 * cols)]), 1e-6, 'embed');
    });
    assert.ok(arenas.has(0) && arenas.size >= 3, `arenas used: ${[...arenas]}`);
    assert.equal(backend.arenaCount, Math.max(...arenas) + 1);
  });

  test('a weight larger than one arena is refused with a code', () => {
    assert.throws(() => backend.uploadWeight(GGMLType.F32, 512, 1024, new Uint8Array(512 * 1024 * 4)), (error) => isTesseraError(error, 'KERNEL_OUT_OF_MEMORY'));
  });
});

test('dispose ends every worker thread and closes the backend', async () => {
  const backend = await WasmBackend.create({ threads: 2 });
  assert.equal(backend.threads, 2);
  backend.dispose();
  await backend.exited;
  assert.throws(() => backend.alloc(1), (error) => isTesseraError(error, 'ENGINE_CLOSED'));
});
