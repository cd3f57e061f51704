// Dot products of one weight row with one q8-quantized token for the 4-bit and K-quant formats.
// Each takes the row's bytes and the token's xq (i16) / xd (f32 per 32) / xsum (f32 per 32).

import { dot16S, dot16U, f16At, f16x4At, fenced, horizontalSum4, sumF32x4, sumI32x4 } from './common';

// ---- Q4_0: repacked as nibbles [rows, cols/2] (16 bytes per block) + f16 scales [rows, cols/32].
// value[32b + j] = (low nibble of byte j - 8) * d,  value[32b + 16 + j] = (high nibble - 8) * d.

@inline function blockQ4_0(w: usize, x: usize): v128 {
  const v = v128.load(w);
  const low = i8x16.sub(v128.and(v, i8x16.splat(0x0f)), i8x16.splat(8));
  const high = i8x16.sub(i8x16.shr_u(v, 4), i8x16.splat(8));
  return i32x4.add(dot16S(low, x), dot16S(high, x + 32));
}

export function dotRowQ4_0(wq: usize, ws: usize, xq: usize, xd: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const w = wq + (<usize>b << 4);
    const x = xq + (<usize>b << 6);
    const sums = horizontalSum4(blockQ4_0(w, x), blockQ4_0(w + 16, x + 64), blockQ4_0(w + 32, x + 128), blockQ4_0(w + 48, x + 192));
    const scales = f32x4.mul(f16x4At(ws + (<usize>b << 1)), v128.load(xd + (<usize>b << 2)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sums), scales));
  }
  let total = sumF32x4(acc);
  for (; b < nb; b++) {
    const s = sumI32x4(blockQ4_0(wq + (<usize>b << 4), xq + (<usize>b << 6)));
    total += <f32>s * f16At(ws + (<usize>b << 1)) * load<f32>(xd + (<usize>b << 2));
  }
  return total;
}

// ---- K-quant 6-bit scale/min pairs (Q4_K, Q5_K): 12 bytes hold 8 scales and 8 mins.

@inline function kScale(scales: usize, j: i32): i32 {
  return j < 4
    ? <i32>load<u8>(scales + j) & 63
    : (<i32>load<u8>(scales + j + 4) & 0xf) | ((<i32>load<u8>(scales + j - 4) >> 6) << 4);
}

@inline function kMin(scales: usize, j: i32): i32 {
  return j < 4
    ? <i32>load<u8>(scales + j + 4) & 63
    : (<i32>load<u8>(scales + j + 4) >> 4) | ((<i32>load<u8>(scales + j) >> 6) << 4);
}

// ---- Q5_K: 176-byte super-blocks: d, dmin, scales[12], qh[32], qs[128]. As Q4_K, plus a fifth
// bit per value: bit 2c of qh[l] for sub-block 2c, bit 2c+1 for sub-block 2c+1.

export function dotRowQ5_K(w: usize, xq: usize, xd: usize, xsum: usize, nsb: i32): f32 {
  let acc = f32x4.splat(0);
  let minTotal: f32 = 0;
  const mask = i8x16.splat(0x0f);
  const one = i8x16.splat(1);
  for (let sb = 0; sb < nsb; sb++) {
    const p = w + <usize>sb * 176;
    const scales = p + 4;
    const h0 = v128.load(p + 16), h1 = v128.load(p + 32);
    const block = sb << 3;
    let part = f32x4.splat(0);
    for (let half = 0; half < 2; half++) {
      const q = p + 48 + (<usize>half << 6);
      const x = xq + (<usize>sb << 9) + (<usize>half << 8);
      const j = half << 2;
      const v0 = v128.load(q), v1 = v128.load(q, 16), v2 = v128.load(q, 32), v3 = v128.load(q, 48);
      const b0 = i8x16.shl(v128.and(i8x16.shr_u(h0, j), one), 4), b0h = i8x16.shl(v128.and(i8x16.shr_u(h1, j), one), 4);
      const b1 = i8x16.shl(v128.and(i8x16.shr_u(h0, j + 1), one), 4), b1h = i8x16.shl(v128.and(i8x16.shr_u(h1, j + 1), one), 4);
      const b2 = i8x16.shl(v128.and(i8x16.shr_u(h0, j + 2), one), 4), b2h = i8x16.shl(v128.and(i8x16.shr_u(h1, j + 2), one), 4);
      const b3 = i8x16.shl(v128.and(i8x16.shr_u(h0, j + 3), one), 4), b3h = i8x16.shl(v128.and(i8x16.shr_u(h1, j + 3), one), 4);
      const d0 = i32x4.add(dot16U(v128.or(v128.and(v0, mask), b0), x), dot16U(v128.or(v128.and(v1, mask), b0h), x + 32));
      const d1 = i32x4.add(dot16U(v128.or(i8x16.shr_u(v0, 4), b1), x + 64), dot16U(v128.or(i8x16.shr_u(v1, 4), b1h), x + 96));
      const d2 = i32x4.add(dot16U(v128.or(v128.and(v2, mask), b2), x + 128), dot16U(v128.or(v128.and(v3, mask), b2h), x + 160));
      const d3 = i32x4.add(dot16U(v128.or(i8x16.shr_u(v2, 4), b3), x + 192), dot16U(v128.or(i8x16.shr_u(v3, 4), b3h), x + 224));
      const sums = horizontalSum4(
        i32x4.mul(d0, i32x4.splat(kScale(scales, j))),
        i32x4.mul(d1, i32x4.splat(kScale(scales, j + 1))),
        i32x4.mul(d2, i32x4.splat(kScale(scales, j + 2))),
        i32x4.mul(d3, i32x4.splat(kScale(scales, j + 3))),
      );
      part = f32x4.add(part, f32x4.mul(f32x4.convert_i32x4_s(sums), v128.load(xd + (<usize>(block + j) << 2))));
    }
    acc = f32x4.add(acc, f32x4.mul(part, f32x4.splat(f16At(p))));
    let minSum: f32 = 0;
    for (let j = 0; j < 8; j++) minSum += <f32>kMin(scales, j) * load<f32>(xsum + (<usize>(block + j) << 2));
    minTotal += f16At(p + 2) * minSum;
  }
  return sumF32x4(acc) - minTotal;
}

/** One Q4_0 row · four q8 tokens (xStride / dStride: bytes between tokens; fence as dotRowQ4_Kx4); writes out[t * outStride]. */
export function dotRowQ4_0x4(
  wq: usize, ws: usize, xq: usize, xd: usize, nb: i32, xStride: usize, dStride: usize, out: usize, outStride: usize, fence: usize,
): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const v = v128.load(wq + (<usize>b << 4));
    const low = i8x16.sub(v128.and(v, i8x16.splat(0x0f)), i8x16.splat(8));
    const high = i8x16.sub(v128.and(i16x8.shr_u(v, 4), i8x16.splat(0x0f)), i8x16.splat(8));
    // The block's 32 weights widened to i16 once, for all four tokens.
    const w0 = i16x8.extend_low_i8x16_s(low), w1 = i16x8.extend_high_i8x16_s(low);
    const w2 = i16x8.extend_low_i8x16_s(high), w3 = i16x8.extend_high_i8x16_s(high);
    const dw = f16At(ws + (<usize>b << 1));
    const x = xq + (<usize>b << 6), d = xd + (<usize>b << 2);
    a0 = fenced(f32x4.add(a0, f32x4.mul(f32x4.convert_i32x4_s(block4(w0, w1, w2, w3, x)), f32x4.splat(dw * load<f32>(d)))), fence);
    a1 = fenced(f32x4.add(a1, f32x4.mul(f32x4.convert_i32x4_s(block4(w0, w1, w2, w3, x + xStride)), f32x4.splat(dw * load<f32>(d + dStride)))), fence);
    a2 = fenced(f32x4.add(a2, f32x4.mul(f32x4.convert_i32x4_s(block4(w0, w1, w2, w3, x + 2 * xStride)), f32x4.splat(dw * load<f32>(d + 2 * dStride)))), fence);
    a3 = fenced(f32x4.add(a3, f32x4.mul(f32x4.convert_i32x4_s(block4(w0, w1, w2, w3, x + 3 * xStride)), f32x4.splat(dw * load<f32>(d + 3 * dStride)))), fence);
  }
  store<f32>(out, sumF32x4(a0));
  store<f32>(out + outStride, sumF32x4(a1));
  store<f32>(out + 2 * outStride, sumF32x4(a2));
  store<f32>(out + 3 * outStride, sumF32x4(a3));
}

/** 32 i16 weights (w0..w3) · 32 i16 activations at x, as i32x4 partial sums. */
@inline function block4(w0: v128, w1: v128, w2: v128, w3: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(x)), i32x4.dot_i16x8_s(w1, v128.load(x, 16))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(x, 32)), i32x4.dot_i16x8_s(w3, v128.load(x, 48))),
  );
}
