// Q8_0 weights × q8 activations, on weights interleaved eight rows at a time (repack.ts):
//   quants  [ceil(rows/8), nb, 16 pairs, 8 rows, 2] int8   256 bytes per (row group, block)
//   scales  [ceil(rows/8), nb, 8] f16                        16 bytes per (row group, block)
// and activations interleaved four tokens at a time (quantize.ts, grouped form):
//   xq      [ceil(nTokens/4), cols/2 pairs, 4 tokens, 2] int16
//   xd4     [ceil(nTokens/4), nb, 4] f32 (the four tokens' block scales side by side)
//   out[t, r] = sum_b  dw[r, b] * dx[t, b] * sum_{i<32} wq[r, 32b+i] * xq[t, 32b+i]
// One pair of a token's activations, broadcast to all lanes, meets the same pair of four rows in
// one i32x4.dot_i16x8_s: each lane is one row's sum, so nothing is ever summed across lanes. A
// step loads 16 weight bytes (8 rows) and 16 activation bytes (4 tokens) and does 8 of those
// products, with both pointers moving by constants — no address arithmetic in the hot loop.
// Decode (one token) and the tokens past the last full group use the one-token form.

import { f16x4At, madd } from './common';

/** Bytes of one row group's quants per block, and of its scales per block. */
const GROUP_BLOCK_BYTES: usize = 256;
const GROUP_SCALE_BYTES: usize = 16;

/** Scratch a chunk needs for a row group: 4 tokens × 8 rows f32 accumulators, then f32 scales. */
export function q8_0ScratchBytes(cols: i32): i32 {
  return 128 + (cols >> 5) * 32;
}

/**
 * Eight rows (one group) · four tokens (one group), all blocks: out4x8[j, i] (f32, token j, row i)
 * = the dot products. scales: the group's block scales as f32 [nb, 8]; xd4 at this token group.
 * The block's integer sums are scaled into accumulators in `acc` (memory: the eight integer sums,
 * two weight vectors and the broadcast take the x86 registers already).
 */
function tile8x4(w: usize, scales: usize, x: usize, xd4: usize, nb: i32, acc: usize): void {
  const zero = f32x4.splat(0);
  for (let i: usize = 0; i < 128; i += 16) v128.store(acc + i, zero);
  for (let b = 0; b < nb; b++) {
    let p00 = i32x4.splat(0), p01 = p00, p02 = p00, p03 = p00, p10 = p00, p11 = p00, p12 = p00, p13 = p00;
    for (const end = w + GROUP_BLOCK_BYTES; w < end; w += 16, x += 16) {
      const a = v128.load8x8_s(w), c = v128.load8x8_s(w, 8);
      let xv = v128.load32_splat(x);
      p00 = i32x4.add(p00, i32x4.dot_i16x8_s(a, xv)); p10 = i32x4.add(p10, i32x4.dot_i16x8_s(c, xv));
      xv = v128.load32_splat(x, 4);
      p01 = i32x4.add(p01, i32x4.dot_i16x8_s(a, xv)); p11 = i32x4.add(p11, i32x4.dot_i16x8_s(c, xv));
      xv = v128.load32_splat(x, 8);
      p02 = i32x4.add(p02, i32x4.dot_i16x8_s(a, xv)); p12 = i32x4.add(p12, i32x4.dot_i16x8_s(c, xv));
      xv = v128.load32_splat(x, 12);
      p03 = i32x4.add(p03, i32x4.dot_i16x8_s(a, xv)); p13 = i32x4.add(p13, i32x4.dot_i16x8_s(c, xv));
    }
    const s = scales + (<usize>b << 5), d = xd4 + (<usize>b << 4);
    const low = v128.load(s), high = v128.load(s, 16);
    accumulate(acc, p00, p10, low, high, v128.load32_splat(d));
    accumulate(acc + 32, p01, p11, low, high, v128.load32_splat(d, 4));
    accumulate(acc + 64, p02, p12, low, high, v128.load32_splat(d, 8));
    accumulate(acc + 96, p03, p13, low, high, v128.load32_splat(d, 12));
  }
}

/** acc[0..8) += (rows 0-3 sums, rows 4-7 sums) · row scales · the token's scale dx. */
@inline function accumulate(acc: usize, sumLow: v128, sumHigh: v128, low: v128, high: v128, dx: v128): void {
  v128.store(acc, madd(f32x4.convert_i32x4_s(sumLow), f32x4.mul(low, dx), v128.load(acc)));
  v128.store(acc, madd(f32x4.convert_i32x4_s(sumHigh), f32x4.mul(high, dx), v128.load(acc, 16)), 16);
}

/**
 * Eight rows (one group) · one token whose pairs lie 16 bytes apart from `x` (a slot of a token
 * group): writes the eight sums to out8 (f32). ws: the group's f16 scales; xd: the token's block
 * scales (f32 [nb]).
 */
function group8x1(w: usize, ws: usize, x: usize, xd: usize, nb: i32, out8: usize): void {
  let low = f32x4.splat(0), high = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    let p0 = i32x4.splat(0), p1 = p0, q0 = p0, q1 = p0;
    for (const end = w + GROUP_BLOCK_BYTES; w < end; w += 32, x += 32) {
      const xa = v128.load32_splat(x), xb = v128.load32_splat(x, 16);
      p0 = i32x4.add(p0, i32x4.dot_i16x8_s(v128.load8x8_s(w), xa));
      p1 = i32x4.add(p1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), xa));
      q0 = i32x4.add(q0, i32x4.dot_i16x8_s(v128.load8x8_s(w, 16), xb));
      q1 = i32x4.add(q1, i32x4.dot_i16x8_s(v128.load8x8_s(w, 24), xb));
    }
    const s = ws + <usize>b * GROUP_SCALE_BYTES;
    const dx = v128.load32_splat(xd + (<usize>b << 2));
    low = madd(f32x4.convert_i32x4_s(i32x4.add(p0, q0)), f32x4.mul(f16x4At(s), dx), low);
    high = madd(f32x4.convert_i32x4_s(i32x4.add(p1, q1)), f32x4.mul(f16x4At(s + 8), dx), high);
  }
  v128.store(out8, low);
  v128.store(out8, high, 16);
}

/** The first `count` of eight f32 at `values` to out (a row group's outputs for one token). */
@inline function storeRows(out: usize, values: usize, count: i32): void {
  if (count == 8) {
    v128.store(out, v128.load(values));
    v128.store(out, v128.load(values, 16), 16);
  } else {
    for (let i = 0; i < count; i++) store<f32>(out + (<usize>i << 2), load<f32>(values + (<usize>i << 2)));
  }
}

/**
 * out: [nTokens, rows] f32; rows [rowStart, rowEnd) for every token. rowStart is a multiple of 8
 * (matmulShare deals rows out by groups). xd: [nTokens, nb] f32; xd4 follows xd and xsum.
 */
export function matmulQ8_0(
  wq: usize, ws: usize, rows: i32, cols: i32, xq: usize, xd: usize, out: usize, nTokens: i32, rowStart: i32, rowEnd: i32, scratch: usize,
): void {
  const nb = cols >> 5;
  const xGroupBytes = <usize>cols << 3;
  const xd4 = xd + (<usize>(nTokens * nb) << 3);
  const outStride = <usize>rows << 2;
  const fullGroups = nTokens >> 2;
  const acc = scratch, scales = scratch + 128;
  for (let r = rowStart; r < rowEnd; r += 8) {
    const count = min(8, rowEnd - r);
    const w = wq + <usize>(r >> 3) * nb * GROUP_BLOCK_BYTES;
    const s = ws + <usize>(r >> 3) * nb * GROUP_SCALE_BYTES;
    if (fullGroups > 0) {
      // The group's scales as f32 once, for every token group that passes over its rows.
      for (let b = 0; b < nb; b++) {
        v128.store(scales + (<usize>b << 5), f16x4At(s + <usize>b * GROUP_SCALE_BYTES));
        v128.store(scales + (<usize>b << 5), f16x4At(s + <usize>b * GROUP_SCALE_BYTES + 8), 16);
      }
    }
    for (let g = 0; g < fullGroups; g++) {
      tile8x4(w, scales, xq + <usize>g * xGroupBytes, xd4 + (<usize>(g * nb) << 4), nb, acc);
      const o = out + ((<usize>(g << 2) * rows + r) << 2);
      for (let j = 0; j < 4; j++) storeRows(o + <usize>j * outStride, acc + (<usize>j << 5), count);
    }
    for (let t = fullGroups << 2; t < nTokens; t++) {
      const x = xq + <usize>(t >> 2) * xGroupBytes + (<usize>(t & 3) << 2);
      group8x1(w, s, x, xd + (<usize>(t * nb) << 2), nb, acc);
      storeRows(out + <usize>t * outStride + (<usize>r << 2), acc, count);
    }
  }
}
