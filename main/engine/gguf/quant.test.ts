import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTesseraError } from '../../../shared/errors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
import { dequantize, dequantizeInto, quantize, tensorByteLength } from './quant.js';
import { GGML_BLOCK, GGMLType } from './types.js';

/** Deterministic normal-ish values (sum of uniforms) from a small LCG. */
function randomValues(count: number, seed: number, scale = 1): Float32Array {
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (next() + next() + next() + next() - 2) * scale;
  return out;
}

function maxAbs(values: Float32Array): number {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  return m;
}

function rmsError(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum / a.length);
}

describe('half precision', () => {
  it('converts exactly representable values both ways', () => {
    for (const [value, bits] of [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [2 ** -24, 0x0001],
      [Infinity, 0x7c00],
    ] as const) {
      assert.equal(f32ToF16(value), bits, `f16 bits of ${value}`);
      assert.equal(f16ToF32(bits), value);
    }
    assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))));
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
    assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00);
    // 1 + 3*2^-11 lies halfway between 1+2^-10 (odd) and 1+2^-9 (even).
    assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(f32ToF16(1 + 2 ** -11 + 2 ** -20), 0x3c01);
    assert.equal(f32ToF16(70000), 0x7c00, 'overflow is infinity');
    assert.equal(f32ToF16(2 ** -26), 0x0000, 'underflow is zero');
    assert.equal(f32ToF16(3 * 2 ** -25), 0x0002, 'subnormal ties to even');
  });

  it('round-trips every finite f16 value', () => {
    for (let h = 0; h < 0x7c00; h++) {
      assert.equal(f32ToF16(f16ToF32(h)), h);
      assert.equal(f32ToF16(f16ToF32(h | 0x8000)), h | 0x8000);
    }
  });

  it('converts bf16 like ggml', () => {
    assert.equal(f32ToBf16(1), 0x3f80);
    assert.equal(bf16ToF32(0x3f80), 1);
    assert.equal(f32ToBf16(-2.5), 0xc020);
    // 1 + 2^-8 is halfway between bf16 1 and 1 + 2^-7: ties to even (1).
    assert.equal(f32ToBf16(1 + 2 ** -8), 0x3f80);
    assert.equal(f32ToBf16(1 + 3 * 2 ** -8), 0x3f82);
  });
});

describe('block sizes', () => {
  it('match ggml-common.h', () => {
    assert.equal(tensorByteLength(GGMLType.Q8_0, 64), 68);
    assert.equal(tensorByteLength(GGMLType.Q4_K, 512), 288);
    assert.equal(tensorByteLength(GGMLType.Q6_K, 256), 210);
    assert.equal(tensorByteLength(GGMLType.F16, 3), 6);
  });

  it('rejects partial blocks and unknown types with codes', () => {
    assert.throws(() => tensorByteLength(GGMLType.Q8_0, 33), (e) => isTesseraError(e, 'GGUF_INVALID'));
    assert.throws(() => tensorByteLength(3 as GGMLType, 32), (e) => isTesseraError(e, 'MODEL_UNSUPPORTED_TENSOR_TYPE'));
    assert.throws(
      () => dequantize(GGMLType.Q8_0, new Uint8Array(33), 32),
      (e) => isTesseraError(e, 'GGUF_TRUNCATED'),
    );
  });
});

describe('decoders follow the ggml block layouts', () => {
  it('Q8_0: d * q', () => {
    const block = new Uint8Array(34);
    new DataView(block.buffer).setUint16(0, f32ToF16(0.5), true);
    for (let j = 0; j < 32; j++) block[2 + j] = (j - 16) & 0xff;
    const out = dequantize(GGMLType.Q8_0, block, 32);
    for (let j = 0; j < 32; j++) assert.equal(out[j], (j - 16) * 0.5);
  });

  it('Q4_0: low nibbles are elements 0..15, high nibbles 16..31, offset 8', () => {
    const block = new Uint8Array(18);
    new DataView(block.buffer).setUint16(0, f32ToF16(2), true);
    for (let j = 0; j < 16; j++) block[2 + j] = j | ((15 - j) << 4);
    const out = dequantize(GGMLType.Q4_0, block, 32);
    for (let j = 0; j < 16; j++) {
      assert.equal(out[j], (j - 8) * 2);
      assert.equal(out[j + 16], (15 - j - 8) * 2);
    }
  });

  it('Q4_K: 6-bit scales/mins packed in 12 bytes, 64 elements per 32 bytes of nibbles', () => {
    const block = new Uint8Array(144);
    const view = new DataView(block.buffer);
    view.setUint16(0, f32ToF16(1), true); // d
    view.setUint16(2, f32ToF16(0.25), true); // dmin
    // Sub-block j gets scale 10 + j*7 (up to 59, so sub-blocks 4..7 use the high bits) and min 3 + j*8.
    const scales = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => 10 + j * 7);
    const mins = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => 3 + j * 8);
    for (let j = 0; j < 4; j++) {
      block[4 + j] = scales[j]! | ((scales[j + 4]! >> 4) << 6);
      block[4 + j + 4] = mins[j]! | ((mins[j + 4]! >> 4) << 6);
      block[4 + j + 8] = (scales[j + 4]! & 15) | ((mins[j + 4]! & 15) << 4);
    }
    for (let i = 0; i < 128; i++) block[16 + i] = (i % 16) | ((15 - (i % 16)) << 4);
    const out = dequantize(GGMLType.Q4_K, block, 256);
    for (let i = 0; i < 256; i++) {
      const chunk = Math.floor(i / 64); // each chunk of 64 reads 32 bytes: low nibbles then high
      const within = i % 64;
      const byte = block[16 + chunk * 32 + (within % 32)]!;
      const q = within < 32 ? byte & 15 : byte >> 4;
      const sub = Math.floor(i / 32);
      assert.equal(out[i], scales[sub]! * q - 0.25 * mins[sub]!, `element ${i}`);
    }
  });

  it('Q5_K: the fifth bit comes from qh, two bits per 64-element chunk', () => {
    const block = new Uint8Array(176);
    const view = new DataView(block.buffer);
    view.setUint16(0, f32ToF16(1), true);
    view.setUint16(2, 0, true);
    for (let j = 0; j < 4; j++) block[4 + j] = 1; // scales 1 for sub-blocks 0..3
    for (let j = 0; j < 4; j++) block[4 + j + 8] = 1; // and 4..7 (low 4 bits)
    for (let l = 0; l < 32; l++) block[16 + l] = l % 2 === 0 ? 0xff : 0x00;
    for (let i = 0; i < 128; i++) block[48 + i] = 0x21; // low nibble 1, high nibble 2
    const out = dequantize(GGMLType.Q5_K, block, 256);
    for (let i = 0; i < 256; i++) {
      const l = i % 32;
      const low = Math.floor(i / 32) % 2 === 0 ? 1 : 2;
      assert.equal(out[i], low + (l % 2 === 0 ? 16 : 0), `element ${i}`);
    }
  });

  it('Q6_K: ql/qh/scales/d layout', () => {
    const block = new Uint8Array(210);
    const view = new DataView(block.buffer);
    view.setUint16(208, f32ToF16(0.5), true);
    for (let j = 0; j < 16; j++) block[192 + j] = (j % 2 === 0 ? j + 1 : -(j + 1)) & 0xff;
    // Level of element i: (i * 7) % 64, packed as ggml's quantize_row_q6_K does.
    const level = (i: number): number => (i * 7) % 64;
    for (let half = 0; half < 2; half++) {
      for (let l = 0; l < 32; l++) {
        const base = half * 128;
        const [a, b, c, e] = [level(base + l), level(base + l + 32), level(base + l + 64), level(base + l + 96)];
        block[half * 64 + l] = (a & 15) | ((c & 15) << 4);
        block[half * 64 + l + 32] = (b & 15) | ((e & 15) << 4);
        block[128 + half * 32 + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
      }
    }
    const out = dequantize(GGMLType.Q6_K, block, 256);
    for (let i = 0; i < 256; i++) {
      const sub = Math.floor(i / 16);
      const scale = sub % 2 === 0 ? sub + 1 : -(sub + 1);
      assert.equal(out[i], 0.5 * scale * (level(i) - 32), `element ${i}`);
    }
  });

  it('F32/F16/BF16 are little-endian', () => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat32(4, -3.25, true);
    assert.deepEqual([...dequantize(GGMLType.F32, bytes, 2)], [0, -3.25]);
    assert.deepEqual([...dequantize(GGMLType.F16, new Uint8Array([0x00, 0x3c, 0x00, 0xc0]), 2)], [1, -2]);
    assert.deepEqual([...dequantize(GGMLType.BF16, new Uint8Array([0x80, 0x3f, 0x20, 0xc0]), 2)], [1, -2.5]);
  });

  it('dequantizeInto writes at an offset and reads from a sub-view', () => {
    const values = randomValues(512, 3, 0.05);
    const encoded = quantize(GGMLType.Q4_K, values);
    const whole = dequantize(GGMLType.Q4_K, encoded, 512);
    const out = new Float32Array(300);
    dequantizeInto(GGMLType.Q4_K, encoded.subarray(144), out, 44, 256);
    assert.deepEqual(out.subarray(44), whole.subarray(256));
  });
});

describe('encoders round-trip within each type’s precision', () => {
  // Relative RMS error bound per type (error / max |x|), generous but tight enough to catch
  // a wrong layout (which gives errors near 1).
  const bounds: [GGMLType, number][] = [
    [GGMLType.F32, 0],
    [GGMLType.F16, 0.0002],
    [GGMLType.BF16, 0.001],
    [GGMLType.Q8_0, 0.003],
    [GGMLType.Q6_K, 0.01],
    [GGMLType.Q5_K, 0.02],
    [GGMLType.Q4_K, 0.04],
    [GGMLType.Q4_0, 0.04],
  ];
  for (const [type, bound] of bounds) {
    it(`${GGMLType[type]}`, () => {
      const values = randomValues(4096, type + 11, 0.02);
      const encoded = quantize(type, values);
      assert.equal(encoded.length, (4096 / GGML_BLOCK[type].elements) * GGML_BLOCK[type].bytes);
      const decoded = dequantize(type, encoded, values.length);
      const error = rmsError(values, decoded) / maxAbs(values);
      assert.ok(error <= bound, `relative error ${error} > ${bound}`);
      // Re-encoding what was decoded is stable for the symmetric/float types.
      if (type !== GGMLType.Q4_K && type !== GGMLType.Q5_K && type !== GGMLType.Q4_0) {
        assert.deepEqual(quantize(type, decoded), encoded);
      }
    });
  }

  it('handles all-zero, constant and tiny blocks without NaN', () => {
    for (const type of [GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]) {
      for (const fill of [0, 0.7, -1e-9]) {
        const decoded = dequantize(type, quantize(type, new Float32Array(256).fill(fill)), 256);
        for (const v of decoded) {
          assert.ok(Number.isFinite(v), `${GGMLType[type]} fill ${fill}`);
          assert.ok(Math.abs(v - fill) <= Math.abs(fill) * 0.1 + 1e-6, `${GGMLType[type]} fill ${fill}: ${v}`);
        }
      }
    }
  });
});
