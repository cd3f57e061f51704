// Load-time and cache helpers that move bytes, not arithmetic.
//
// repackBlocks: GGUF blocks staged in memory into the kernels' weight layout (../weight-layout.ts):
//   Q8_0 (34-byte blocks: f16 d, 32 int8)   -> rows interleaved by groups of eight (matmul-q8_0.ts):
//        row r, block b's pair k at values + 256 (nb (r / 8) + b) + 16k + 2 (r % 8), its d at
//        scales + 16 (nb (r / 8) + b) + 2 (r % 8)
//   Q4_0 (18-byte blocks: f16 d, 16 bytes)  -> nibbles at values + 16b, d at scales + 2b
//   Q4_K (144-byte blocks: d, dmin, 12 packed 6-bit scale/min bytes, 128 nibble bytes)
//        -> nibbles at values + 128b, record (d, dmin, scale u8[8], min u8[8]) at scales + 20b
// Done here rather than in JavaScript because a model has tens of millions of blocks.
//
// toHalf: f32 -> IEEE f16 with round-to-nearest-even.
// storeKv: new keys or values into a KV cache laid out head by head, rounded as toHalf rounds.

import { shareStart } from './common';
import { Q4_0, Q4_K, Q8_0 } from './types';

/**
 * `blocks` GGUF blocks of `type` staged at src, the weight's blocks [firstBlock, firstBlock +
 * blocks) in row order (blocksPerRow to a row), into the weight's values/scales arrays.
 */
export function repackBlocks(
  type: i32, src: usize, blocks: i32, values: usize, scales: usize, firstBlock: i32, blocksPerRow: i32, lane: i32, nLanes: i32,
): void {
  const end = shareStart(blocks, lane + 1, nLanes);
  let b = shareStart(blocks, lane, nLanes);
  if (type == Q8_0) {
    for (; b < end; b++) {
      const s = src + <usize>b * 34;
      const row = (firstBlock + b) / blocksPerRow, block = firstBlock + b - row * blocksPerRow;
      const at = <usize>(row >> 3) * blocksPerRow + block, slot = <usize>(row & 7) << 1;
      store<u16>(scales + (at << 4) + slot, load<u16>(s));
      const v = values + (at << 8) + slot;
      for (let k: usize = 0; k < 16; k++) store<u16>(v + (k << 4), load<u16>(s + 2 + (k << 1)));
    }
    return;
  }
  values += <usize>firstBlock * (type == Q4_0 ? 16 : 128);
  scales += <usize>firstBlock * (type == Q4_0 ? 2 : 20);
  if (type == Q4_0) {
    for (; b < end; b++) {
      const s = src + <usize>b * 18;
      store<u16>(scales + (<usize>b << 1), load<u16>(s));
      v128.store(values + (<usize>b << 4), v128.load(s + 2));
    }
  } else if (type == Q4_K) {
    for (; b < end; b++) {
      const s = src + <usize>b * 144;
      const meta = scales + <usize>b * 20;
      store<u32>(meta, load<u32>(s));
      const packed = s + 4;
      for (let j = 0; j < 8; j++) {
        let scale: u32, minimum: u32;
        if (j < 4) {
          scale = load<u8>(packed + j) & 63;
          minimum = load<u8>(packed + j + 4) & 63;
        } else {
          scale = (load<u8>(packed + j + 4) & 0xf) | ((load<u8>(packed + j - 4) >> 6) << 4);
          minimum = (load<u8>(packed + j + 4) >> 4) | ((load<u8>(packed + j) >> 6) << 4);
        }
        store<u8>(meta + 4 + j, <u8>scale);
        store<u8>(meta + 12 + j, <u8>minimum);
      }
      const v = values + (<usize>b << 7);
      for (let i = 0; i < 8; i++) v128.store(v + (<usize>i << 4), v128.load(s + 16 + (<usize>i << 4)));
    }
  }
}

/** One f32 as f16 bits, rounded to nearest even; overflow to infinity, NaN stays NaN. */
@inline function halfBits(x: f32): u32 {
  const bits = reinterpret<u32>(x);
  const sign = (bits >> 16) & 0x8000;
  const magnitude = bits & 0x7fffffff;
  if (magnitude >= 0x47800000) return sign | (magnitude > 0x7f800000 ? 0x7e00 : 0x7c00); // >= 65536, inf, NaN
  if (magnitude < 0x38800000) {
    // Below f16's smallest normal: adding 0.5 lets the FPU round the subnormal into the low bits.
    return sign | (reinterpret<u32>(reinterpret<f32>(magnitude) + <f32>0.5) - 0x3f000000);
  }
  // Rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even.
  const rounded = magnitude + 0xc8000fff + ((magnitude >> 13) & 1);
  return sign | (rounded >> 13);
}

/** out[i] = f16(x[i]) for i < length. x: f32, out: f16. */
export function toHalf(out: usize, x: usize, length: i32, lane: i32, nLanes: i32): void {
  const start = shareStart(length, lane, nLanes);
  storeHalves(out + (<usize>start << 1), x + (<usize>start << 2), shareStart(length, lane + 1, nLanes) - start);
}

/** halfBits of four f32 at once, as i32x4 lanes 0..0xffff (the same branches, chosen by masks). */
@inline function halfBitsX4(bits: v128): v128 {
  const sign = v128.and(i32x4.shr_u(bits, 16), i32x4.splat(0x8000));
  const magnitude = v128.and(bits, i32x4.splat(0x7fffffff));
  const normal = i32x4.shr_u(
    i32x4.add(i32x4.add(magnitude, i32x4.splat(0xc8000fff)), v128.and(i32x4.shr_u(magnitude, 13), i32x4.splat(1))), 13);
  const subnormal = i32x4.sub(f32x4.add(magnitude, f32x4.splat(0.5)), i32x4.splat(0x3f000000));
  const huge = v128.bitselect(i32x4.splat(0x7e00), i32x4.splat(0x7c00), i32x4.gt_s(magnitude, i32x4.splat(0x7f800000)));
  const finite = v128.bitselect(subnormal, normal, i32x4.lt_s(magnitude, i32x4.splat(0x38800000)));
  return v128.or(sign, v128.bitselect(huge, finite, i32x4.gt_s(magnitude, i32x4.splat(0x477fffff))));
}

/** count f32 at x as f16 at out: eight at a time, the rest one by one. */
@inline function storeHalves(out: usize, x: usize, count: i32): void {
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const from = x + (<usize>i << 2);
    v128.store(out + (<usize>i << 1), i16x8.narrow_i32x4_u(halfBitsX4(v128.load(from)), halfBitsX4(v128.load(from, 16))));
  }
  for (; i < count; i++) store<u16>(out + (<usize>i << 1), <u16>halfBits(load<f32>(x + (<usize>i << 2))));
}

/**
 * Rows src [nTokens, nKvHeads * headDim] f32 into a KV cache laid out [nKvHeads, capacity, headDim]
 * (each kv head's positions back to back, so attention streams them), at positions startPosition..;
 * rounded to f16 where `half`. Rows (token, head) are shared out over the lanes.
 */
export function storeKv(
  cache: usize, src: usize, startPosition: i32, nTokens: i32, nKvHeads: i32, headDim: i32, capacity: i32, half: bool,
  lane: i32, nLanes: i32,
): void {
  const rows = nTokens * nKvHeads;
  const end = shareStart(rows, lane + 1, nLanes);
  const elementBytes: usize = half ? 2 : 4;
  for (let row = shareStart(rows, lane, nLanes); row < end; row++) {
    const t = row / nKvHeads, head = row - t * nKvHeads;
    const from = src + ((<usize>row * headDim) << 2);
    const to = cache + (<usize>head * capacity + <usize>(startPosition + t)) * <usize>headDim * elementBytes;
    if (half) storeHalves(to, from, headDim);
    else memory.copy(to, from, <usize>headDim << 2);
  }
}
