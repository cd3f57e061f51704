// Block encoders and decoders for the ggml tensor types Tessera runs, bit-exact to the
// layouts in ggml-common.h. Decoders reproduce ggml's dequantize_row_* exactly (same f32
// arithmetic order), so they serve as the specification the kernels are tested against.
// Encoders are simple round-to-nearest quantizers: their choice of scales differs from
// llama.cpp's, but anything they write decodes the same way in llama.cpp.

import { TesseraError } from '../../../shared/errors.js';
import { bf16ToF32, f16Table, f32ToBf16, f32ToF16 } from './half.js';
import { GGML_BLOCK, GGMLType } from './types.js';

/** Elements in one K-quant super-block. */
export const QK_K = 256;

const fround = Math.fround;

/** Bytes that `count` elements of `type` occupy; `count` must be a whole number of blocks. */
export function tensorByteLength(type: GGMLType, count: number): number {
  const block = blockOf(type);
  if (!Number.isSafeInteger(count) || count < 0 || count % block.elements !== 0) {
    throw new TesseraError(
      'GGUF_INVALID',
      `${GGMLType[type]} holds blocks of ${block.elements} elements; ${count} elements is not a whole number of blocks`,
    );
  }
  return (count / block.elements) * block.bytes;
}

export function isSupportedType(type: number): type is GGMLType {
  return Object.prototype.hasOwnProperty.call(GGML_BLOCK, type);
}

function blockOf(type: GGMLType): { elements: number; bytes: number } {
  const block = GGML_BLOCK[type] as { elements: number; bytes: number } | undefined;
  if (block === undefined) {
    throw new TesseraError('MODEL_UNSUPPORTED_TENSOR_TYPE', `ggml tensor type ${String(type)} is not supported`);
  }
  return block;
}

/** Decodes `count` elements of `type` from the start of `bytes`. */
export function dequantize(type: GGMLType, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  dequantizeInto(type, bytes, out, 0, count);
  return out;
}

/**
 * Decodes `count` elements from the start of `bytes` into `out[outOffset ...]` without
 * allocating: the reference backend decodes one embedding row at a time with it.
 */
export function dequantizeInto(
  type: GGMLType,
  bytes: Uint8Array,
  out: Float32Array,
  outOffset: number,
  count: number,
): void {
  const needed = tensorByteLength(type, count);
  if (bytes.length < needed) {
    throw new TesseraError(
      'GGUF_TRUNCATED',
      `${count} ${GGMLType[type]} elements need ${needed} bytes, got ${bytes.length}`,
    );
  }
  if (outOffset + count > out.length) {
    throw new RangeError(`output holds ${out.length} elements, ${outOffset + count} needed`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, needed);
  switch (type) {
    case GGMLType.F32:
      for (let i = 0; i < count; i++) out[outOffset + i] = view.getFloat32(i * 4, true);
      return;
    case GGMLType.F16: {
      const table = f16Table();
      for (let i = 0; i < count; i++) out[outOffset + i] = table[view.getUint16(i * 2, true)]!;
      return;
    }
    case GGMLType.BF16:
      for (let i = 0; i < count; i++) out[outOffset + i] = bf16ToF32(view.getUint16(i * 2, true));
      return;
    case GGMLType.Q8_0:
      return decodeQ8_0(bytes, view, out, outOffset, count);
    case GGMLType.Q4_0:
      return decodeQ4_0(bytes, view, out, outOffset, count);
    case GGMLType.Q4_K:
      return decodeQ4_K(bytes, view, out, outOffset, count);
    case GGMLType.Q5_K:
      return decodeQ5_K(bytes, view, out, outOffset, count);
    case GGMLType.Q6_K:
      return decodeQ6_K(bytes, view, out, outOffset, count);
    default:
      throw new TesseraError('MODEL_UNSUPPORTED_TENSOR_TYPE', `ggml tensor type ${String(type)} is not supported`);
  }
}

/** Encodes `values` (a whole number of blocks) as `type`. */
export function quantize(type: GGMLType, values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(tensorByteLength(type, values.length));
  const view = new DataView(bytes.buffer);
  const count = values.length;
  switch (type) {
    case GGMLType.F32:
      // GGUF is little-endian, as is every host Tessera runs on: the bytes are the values.
      bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      return bytes;
    case GGMLType.F16:
      for (let i = 0; i < count; i++) view.setUint16(i * 2, f32ToF16(values[i]!), true);
      return bytes;
    case GGMLType.BF16:
      for (let i = 0; i < count; i++) view.setUint16(i * 2, f32ToBf16(values[i]!), true);
      return bytes;
    case GGMLType.Q8_0:
      encodeQ8_0(values, bytes, view);
      return bytes;
    case GGMLType.Q4_0:
      encodeQ4_0(values, bytes, view);
      return bytes;
    case GGMLType.Q4_K:
      encodeQ4_K(values, bytes, view);
      return bytes;
    case GGMLType.Q5_K:
      encodeQ5_K(values, bytes, view);
      return bytes;
    case GGMLType.Q6_K:
      encodeQ6_K(values, bytes, view);
      return bytes;
    default:
      throw new TesseraError('MODEL_UNSUPPORTED_TENSOR_TYPE', `ggml tensor type ${String(type)} is not supported`);
  }
}

// ---- Q8_0: { f16 d; int8 qs[32] }, x = d * q ----------------------------------------------

function decodeQ8_0(bytes: Uint8Array, view: DataView, out: Float32Array, at: number, count: number): void {
  const table = f16Table();
  for (let block = 0, base = 0; base < count; block += 34, base += 32) {
    const d = table[view.getUint16(block, true)]!;
    for (let j = 0; j < 32; j++) out[at + base + j] = fround(d * ((bytes[block + 2 + j]! << 24) >> 24));
  }
}

function encodeQ8_0(values: Float32Array, bytes: Uint8Array, view: DataView): void {
  for (let block = 0, base = 0; base < values.length; block += 34, base += 32) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(values[base + j]!));
    const dBits = f32ToF16(amax / 127);
    const d = f16Table()[dBits]!;
    const inverse = d !== 0 ? 1 / d : 0;
    view.setUint16(block, dBits, true);
    for (let j = 0; j < 32; j++) {
      const q = clamp(Math.round(values[base + j]! * inverse), -127, 127);
      bytes[block + 2 + j] = q & 0xff;
    }
  }
}

// ---- Q4_0: { f16 d; u8 qs[16] }, low nibbles hold elements 0..15, high nibbles 16..31 -----

function decodeQ4_0(bytes: Uint8Array, view: DataView, out: Float32Array, at: number, count: number): void {
  const table = f16Table();
  for (let block = 0, base = 0; base < count; block += 18, base += 32) {
    const d = table[view.getUint16(block, true)]!;
    for (let j = 0; j < 16; j++) {
      const packed = bytes[block + 2 + j]!;
      out[at + base + j] = fround(((packed & 0x0f) - 8) * d);
      out[at + base + j + 16] = fround(((packed >> 4) - 8) * d);
    }
  }
}

function encodeQ4_0(values: Float32Array, bytes: Uint8Array, view: DataView): void {
  for (let block = 0, base = 0; base < values.length; block += 18, base += 32) {
    // As ggml: the value of largest magnitude maps to -8, so its sign picks the scale's sign.
    let extreme = 0;
    for (let j = 0; j < 32; j++) {
      const v = values[base + j]!;
      if (Math.abs(v) > Math.abs(extreme)) extreme = v;
    }
    const dBits = f32ToF16(extreme / -8);
    const d = f16Table()[dBits]!;
    const inverse = d !== 0 ? 1 / d : 0;
    view.setUint16(block, dBits, true);
    for (let j = 0; j < 16; j++) {
      const low = clamp(Math.round(values[base + j]! * inverse) + 8, 0, 15);
      const high = clamp(Math.round(values[base + j + 16]! * inverse) + 8, 0, 15);
      bytes[block + 2 + j] = low | (high << 4);
    }
  }
}

// ---- K-quant scales: 8 pairs of 6-bit (scale, min) packed into 12 bytes (Q4_K, Q5_K) ------

/** Sub-block j's 6-bit scale and min, as ggml's get_scale_min_k4. */
function scaleMinK4(j: number, scales: Uint8Array, offset: number): [number, number] {
  if (j < 4) return [scales[offset + j]! & 63, scales[offset + j + 4]! & 63];
  const scale = (scales[offset + j + 4]! & 0x0f) | ((scales[offset + j - 4]! >> 6) << 4);
  const min = (scales[offset + j + 4]! >> 4) | ((scales[offset + j]! >> 6) << 4);
  return [scale, min];
}

function packScaleMinK4(scales: readonly number[], mins: readonly number[], bytes: Uint8Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const scale = scales[j]!;
    const min = mins[j]!;
    if (j < 4) {
      bytes[offset + j] = (bytes[offset + j]! & 0xc0) | scale;
      bytes[offset + j + 4] = (bytes[offset + j + 4]! & 0xc0) | min;
    } else {
      bytes[offset + j + 4] = (scale & 0x0f) | ((min & 0x0f) << 4);
      bytes[offset + j - 4] = bytes[offset + j - 4]! | ((scale >> 4) << 6);
      bytes[offset + j] = bytes[offset + j]! | ((min >> 4) << 6);
    }
  }
}

/**
 * Chooses per-sub-block (scale, min) for an asymmetric K-quant with levels 0..maxLevel:
 * x ≈ d*sc*q - dmin*m. Writes d, dmin and the packed scales; returns the levels.
 */
function encodeScaleMinBlock(
  values: Float32Array,
  base: number,
  maxLevel: number,
  bytes: Uint8Array,
  view: DataView,
  block: number,
): Uint8Array {
  const subScales: number[] = [];
  const subMins: number[] = [];
  for (let j = 0; j < 8; j++) {
    let lo = 0; // ggml keeps the min <= 0 so that m is stored as a non-negative offset
    let hi = -Infinity;
    for (let l = 0; l < 32; l++) {
      const v = values[base + j * 32 + l]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    subScales.push(Math.max(0, (hi - lo) / maxLevel));
    subMins.push(-lo);
  }
  const maxScale = Math.max(...subScales);
  const maxMin = Math.max(...subMins);
  const dBits = f32ToF16(maxScale / 63);
  const dminBits = f32ToF16(maxMin / 63);
  const d = f16Table()[dBits]!;
  const dmin = f16Table()[dminBits]!;
  view.setUint16(block, dBits, true);
  view.setUint16(block + 2, dminBits, true);
  const scales = subScales.map((s) => (d > 0 ? clamp(Math.round(s / d), 0, 63) : 0));
  const mins = subMins.map((m) => (dmin > 0 ? clamp(Math.round(m / dmin), 0, 63) : 0));
  packScaleMinK4(scales, mins, bytes, block + 4);

  const levels = new Uint8Array(QK_K);
  for (let j = 0; j < 8; j++) {
    const step = fround(d * scales[j]!);
    const offset = fround(dmin * mins[j]!);
    for (let l = 0; l < 32; l++) {
      const i = j * 32 + l;
      levels[i] = step > 0 ? clamp(Math.round((values[base + i]! + offset) / step), 0, maxLevel) : 0;
    }
  }
  return levels;
}

// ---- Q4_K: { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] } ---------------------------------

function decodeQ4_K(bytes: Uint8Array, view: DataView, out: Float32Array, at: number, count: number): void {
  const table = f16Table();
  for (let block = 0, base = 0; base < count; block += 144, base += QK_K) {
    const d = table[view.getUint16(block, true)]!;
    const dmin = table[view.getUint16(block + 2, true)]!;
    let q = block + 16;
    let y = at + base;
    for (let sub = 0; sub < 8; sub += 2) {
      const [sc1, m1] = scaleMinK4(sub, bytes, block + 4);
      const [sc2, m2] = scaleMinK4(sub + 1, bytes, block + 4);
      const d1 = fround(d * sc1);
      const min1 = fround(dmin * m1);
      const d2 = fround(d * sc2);
      const min2 = fround(dmin * m2);
      for (let l = 0; l < 32; l++) out[y + l] = fround(fround(d1 * (bytes[q + l]! & 0x0f)) - min1);
      for (let l = 0; l < 32; l++) out[y + 32 + l] = fround(fround(d2 * (bytes[q + l]! >> 4)) - min2);
      q += 32;
      y += 64;
    }
  }
}

function encodeQ4_K(values: Float32Array, bytes: Uint8Array, view: DataView): void {
  for (let block = 0, base = 0; base < values.length; block += 144, base += QK_K) {
    const levels = encodeScaleMinBlock(values, base, 15, bytes, view, block);
    for (let j = 0; j < QK_K; j += 64) {
      const q = block + 16 + j / 2;
      for (let l = 0; l < 32; l++) bytes[q + l] = levels[j + l]! | (levels[j + l + 32]! << 4);
    }
  }
}

// ---- Q5_K: { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] } ----------------------

function decodeQ5_K(bytes: Uint8Array, view: DataView, out: Float32Array, at: number, count: number): void {
  const table = f16Table();
  for (let block = 0, base = 0; base < count; block += 176, base += QK_K) {
    const d = table[view.getUint16(block, true)]!;
    const dmin = table[view.getUint16(block + 2, true)]!;
    const qh = block + 16;
    let ql = block + 48;
    let y = at + base;
    let bit1 = 1;
    let bit2 = 2;
    for (let sub = 0; sub < 8; sub += 2) {
      const [sc1, m1] = scaleMinK4(sub, bytes, block + 4);
      const [sc2, m2] = scaleMinK4(sub + 1, bytes, block + 4);
      const d1 = fround(d * sc1);
      const min1 = fround(dmin * m1);
      const d2 = fround(d * sc2);
      const min2 = fround(dmin * m2);
      for (let l = 0; l < 32; l++) {
        const q = (bytes[ql + l]! & 0x0f) + (bytes[qh + l]! & bit1 ? 16 : 0);
        out[y + l] = fround(fround(d1 * q) - min1);
      }
      for (let l = 0; l < 32; l++) {
        const q = (bytes[ql + l]! >> 4) + (bytes[qh + l]! & bit2 ? 16 : 0);
        out[y + 32 + l] = fround(fround(d2 * q) - min2);
      }
      ql += 32;
      y += 64;
      bit1 <<= 2;
      bit2 <<= 2;
    }
  }
}

function encodeQ5_K(values: Float32Array, bytes: Uint8Array, view: DataView): void {
  for (let block = 0, base = 0; base < values.length; block += 176, base += QK_K) {
    const levels = encodeScaleMinBlock(values, base, 31, bytes, view, block);
    const qh = block + 16;
    let bit1 = 1;
    let bit2 = 2;
    for (let j = 0; j < QK_K; j += 64) {
      const ql = block + 48 + j / 2;
      for (let l = 0; l < 32; l++) {
        const low = levels[j + l]!;
        const high = levels[j + l + 32]!;
        if (low > 15) bytes[qh + l] = bytes[qh + l]! | bit1;
        if (high > 15) bytes[qh + l] = bytes[qh + l]! | bit2;
        bytes[ql + l] = (low & 0x0f) | ((high & 0x0f) << 4);
      }
      bit1 <<= 2;
      bit2 <<= 2;
    }
  }
}

// ---- Q6_K: { u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d }, x = d * sc * (q - 32) -------

function decodeQ6_K(bytes: Uint8Array, view: DataView, out: Float32Array, at: number, count: number): void {
  const table = f16Table();
  for (let block = 0, base = 0; base < count; block += 210, base += QK_K) {
    const d = table[view.getUint16(block + 208, true)]!;
    let ql = block;
    let qh = block + 128;
    let sc = block + 192;
    let y = at + base;
    for (let half = 0; half < 2; half++) {
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const q1 = ((bytes[ql + l]! & 0x0f) | (((bytes[qh + l]! >> 0) & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32]! & 0x0f) | (((bytes[qh + l]! >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l]! >> 4) | (((bytes[qh + l]! >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32]! >> 4) | (((bytes[qh + l]! >> 6) & 3) << 4)) - 32;
        out[y + l] = fround(fround(d * int8(bytes[sc + is]!)) * q1);
        out[y + l + 32] = fround(fround(d * int8(bytes[sc + is + 2]!)) * q2);
        out[y + l + 64] = fround(fround(d * int8(bytes[sc + is + 4]!)) * q3);
        out[y + l + 96] = fround(fround(d * int8(bytes[sc + is + 6]!)) * q4);
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

function encodeQ6_K(values: Float32Array, bytes: Uint8Array, view: DataView): void {
  for (let block = 0, base = 0; base < values.length; block += 210, base += QK_K) {
    // Symmetric: each sub-block of 16 gets scale amax/31 so levels span [-31, 31] (+32 stored).
    const subScales: number[] = [];
    for (let j = 0; j < 16; j++) {
      let amax = 0;
      for (let l = 0; l < 16; l++) amax = Math.max(amax, Math.abs(values[base + j * 16 + l]!));
      subScales.push(amax / 31);
    }
    const maxScale = Math.max(...subScales);
    const dBits = f32ToF16(maxScale / 127);
    const d = f16Table()[dBits]!;
    view.setUint16(block + 208, dBits, true);
    const levels = new Uint8Array(QK_K);
    for (let j = 0; j < 16; j++) {
      const scale = d > 0 ? clamp(Math.round(subScales[j]! / d), 0, 127) : 0;
      bytes[block + 192 + j] = scale;
      const step = fround(d * scale);
      for (let l = 0; l < 16; l++) {
        const i = j * 16 + l;
        levels[i] = (step > 0 ? clamp(Math.round(values[base + i]! / step), -32, 31) : 0) + 32;
      }
    }
    for (let j = 0; j < QK_K; j += 128) {
      const ql = block + j / 2;
      const qh = block + 128 + j / 4;
      for (let l = 0; l < 32; l++) {
        const a = levels[j + l]!;
        const b = levels[j + l + 32]!;
        const c = levels[j + l + 64]!;
        const e = levels[j + l + 96]!;
        bytes[ql + l] = (a & 0x0f) | ((c & 0x0f) << 4);
        bytes[ql + l + 32] = (b & 0x0f) | ((e & 0x0f) << 4);
        bytes[qh + l] = (a >> 4) | ((b >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
      }
    }
  }
}

function int8(byte: number): number {
  return (byte << 24) >> 24;
}

function clamp(value: number, lo: number, hi: number): number {
  return value < lo ? lo : value > hi ? hi : value;
}
