// Activation quantization: before a quantized matmul the input rows are turned into blocks of 32
// int16 values in [-127, 127] with one f32 scale per block (llama.cpp's q8 activations, stored
// widened to int16 so the dot products need no sign extension of x inside the hot loop).
//
// x:    [nTokens, cols] f32
// xq:   [nTokens, cols] i16        x ≈ xq * xd[block]; or, grouped (for Q8_0, matmul-q8_0.ts),
//       [ceil(nTokens / 4), cols / 2, 4, 2] i16: each pair of values of four consecutive tokens
//       side by side (token t's pair k at group t / 4, byte 16k + 4 (t % 4))
// xd:   [nTokens, cols / 32] f32   block scale = max|x| / 127
// xsum: [nTokens, cols / 32] f32   xd * sum(xq) over the block (for the min terms of K-quants)
// xd4:  [ceil(nTokens / 4), cols / 32, 4] f32 at xsum + nTokens * cols / 32 * 4: xd again, the
//       scales of four consecutive tokens side by side (the Q8_0 tile reads them at constant
//       offsets from one pointer)
// Requires cols % 32 == 0. Tokens are split over lanes.

import { maxF32x4, shareStart, sumI32x4, truncF32x4 } from './common';

export function quantizeRows(
  x: usize, xq: usize, xd: usize, xsum: usize, cols: i32, nTokens: i32, grouped: bool, lane: i32, nLanes: i32,
): void {
  const nb = cols >> 5;
  const totalBlocks = nb * nTokens;
  const xd4 = xsum + (<usize>totalBlocks << 2);
  const end = shareStart(totalBlocks, lane + 1, nLanes);
  for (let b = shareStart(totalBlocks, lane, nLanes); b < end; b++) {
    const src = x + (<usize>b << 7);
    let amax = f32x4.splat(0);
    for (let i = 0; i < 8; i++) amax = maxF32x4(amax, f32x4.abs(v128.load(src + (<usize>i << 4))));
    amax = maxF32x4(amax, f32x4.shuffle(amax, amax, 2, 3, 0, 1));
    const m = max(f32x4.extract_lane(amax, 0), f32x4.extract_lane(amax, 1));
    const d: f32 = m / 127;
    const inverse = f32x4.splat(d != 0 ? <f32>1 / d : 0);
    const t = b / nb, block = b - t * nb;
    let sum = i32x4.splat(0);
    for (let i = 0; i < 4; i++) {
      const a = truncF32x4(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>i << 5)), inverse)));
      const c = truncF32x4(f32x4.nearest(f32x4.mul(v128.load(src + (<usize>i << 5), 16), inverse)));
      sum = i32x4.add(sum, i32x4.add(a, c));
      const values = i16x8.narrow_i32x4_s(a, c);
      if (grouped) {
        // Four pairs, 16 bytes apart, in this token's slot of its group.
        const dst = xq + <usize>(t >> 2) * (<usize>cols << 3) + (<usize>(block * 16 + i * 4) << 4) + (<usize>(t & 3) << 2);
        v128.store32_lane(dst, values, 0);
        v128.store32_lane(dst, values, 1, 16);
        v128.store32_lane(dst, values, 2, 32);
        v128.store32_lane(dst, values, 3, 48);
      } else {
        v128.store(xq + (<usize>b << 6) + (<usize>i << 4), values);
      }
    }
    store<f32>(xd + (<usize>b << 2), d);
    store<f32>(xsum + (<usize>b << 2), d * <f32>sumI32x4(sum));
    store<f32>(xd4 + ((<usize>((t >> 2) * nb + block) << 4) | (<usize>(t & 3) << 2)), d);
  }
}

// ---- q8_K: the activation form of the K-quant matmuls (llama.cpp's block_q8_K): one scale per
// 256 values, so a whole weight super-block is summed in integers before one float multiply.
// xq:    [nTokens, cols] int8 when built with relaxed SIMD (X_BYTES = 1), else int16
// xd:    [nTokens, cols / 256] f32   block scale = max|x| / 127
// bsums: [nTokens, cols / 16] i16    sum of xq over each 16 values (for K-quant mins and offsets)
// Requires cols % 256 == 0.

/** Bytes per quantized activation value in q8_K. */
export const X_BYTES: usize = ASC_FEATURE_RELAXED_SIMD ? 1 : 2;

export function quantizeRowsQ8_K(
  x: usize, xq: usize, xd: usize, bsums: usize, cols: i32, nTokens: i32, lane: i32, nLanes: i32,
): void {
  const totalBlocks = (cols >> 8) * nTokens;
  const end = shareStart(totalBlocks, lane + 1, nLanes);
  for (let b = shareStart(totalBlocks, lane, nLanes); b < end; b++) {
    const src = x + (<usize>b << 10);
    let amax = f32x4.splat(0);
    for (let i = 0; i < 64; i++) amax = maxF32x4(amax, f32x4.abs(v128.load(src + (<usize>i << 4))));
    amax = maxF32x4(amax, f32x4.shuffle(amax, amax, 2, 3, 0, 1));
    const m = max(f32x4.extract_lane(amax, 0), f32x4.extract_lane(amax, 1));
    const d: f32 = m / 127;
    const inverse = f32x4.splat(d != 0 ? <f32>1 / d : 0);
    const dst = xq + (<usize>b << 8) * X_BYTES;
    const sums = bsums + (<usize>b << 5);
    for (let g = 0; g < 16; g++) {
      const s = src + (<usize>g << 6);
      const a0 = truncF32x4(f32x4.nearest(f32x4.mul(v128.load(s), inverse)));
      const a1 = truncF32x4(f32x4.nearest(f32x4.mul(v128.load(s, 16), inverse)));
      const a2 = truncF32x4(f32x4.nearest(f32x4.mul(v128.load(s, 32), inverse)));
      const a3 = truncF32x4(f32x4.nearest(f32x4.mul(v128.load(s, 48), inverse)));
      const low = i16x8.narrow_i32x4_s(a0, a1), high = i16x8.narrow_i32x4_s(a2, a3);
      if (ASC_FEATURE_RELAXED_SIMD) {
        v128.store(dst + (<usize>g << 4), i8x16.narrow_i16x8_s(low, high));
      } else {
        v128.store(dst + (<usize>g << 5), low);
        v128.store(dst + (<usize>g << 5), high, 16);
      }
      store<i16>(sums + (<usize>g << 1), <i16>sumI32x4(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3))));
    }
    store<f32>(xd + (<usize>b << 2), d);
  }
}
