// Dot products of one weight row with one q8-quantized token for the 4-bit and K-quant formats.
// Each takes the row's bytes and the token's xq (i16) / xd (f32 per 32) / xsum (f32 per 32).

import { dot16S, dot16U, f16At, f16x4At, horizontalSum4, sumF32x4, sumI32x4 } from './common';

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

// ---- Q4_K: repacked at upload into two streams per row (same order of super-blocks of 256):
//   values: qs[128] per super-block (chunk c = 32 bytes: sub-block 2c low nibbles, 2c+1 high);
//   meta:   20 bytes per super-block: d f16, dmin f16, scale u8[8], min u8[8] (the GGUF 6-bit
//           pairs unpacked once at upload, so the hot loop multiplies them as vectors).
// value = d * scale_j * q - dmin * min_j.

/** Four u8 at `ptr` as i32x4. */
@inline function u8x4At(ptr: usize): v128 {
  return i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(ptr)));
}

export function dotRowQ4_K(w: usize, meta: usize, xq: usize, xd: usize, xsum: usize, nsb: i32): f32 {
  let acc = f32x4.splat(0);
  let minAcc = f32x4.splat(0);
  const mask = i8x16.splat(0x0f);
  for (let sb = 0; sb < nsb; sb++) {
    const q = w + (<usize>sb << 7);
    const m = meta + <usize>sb * 20;
    const block = sb << 3;
    let part = f32x4.splat(0);
    for (let half = 0; half < 2; half++) {
      const qh = q + (<usize>half << 6);
      const x = xq + (<usize>sb << 9) + (<usize>half << 8);
      const v0 = v128.load(qh), v1 = v128.load(qh, 16), v2 = v128.load(qh, 32), v3 = v128.load(qh, 48);
      const d0 = i32x4.add(dot16U(v128.and(v0, mask), x), dot16U(v128.and(v1, mask), x + 32));
      const d1 = i32x4.add(dot16U(i8x16.shr_u(v0, 4), x + 64), dot16U(i8x16.shr_u(v1, 4), x + 96));
      const d2 = i32x4.add(dot16U(v128.and(v2, mask), x + 128), dot16U(v128.and(v3, mask), x + 160));
      const d3 = i32x4.add(dot16U(i8x16.shr_u(v2, 4), x + 192), dot16U(i8x16.shr_u(v3, 4), x + 224));
      const sums = i32x4.mul(horizontalSum4(d0, d1, d2, d3), u8x4At(m + 4 + (<usize>half << 2)));
      part = f32x4.add(part, f32x4.mul(f32x4.convert_i32x4_s(sums), v128.load(xd + (<usize>(block + (half << 2)) << 2))));
    }
    acc = f32x4.add(acc, f32x4.mul(part, f32x4.splat(f16At(m))));
    const xs = xsum + (<usize>block << 2);
    const mins = f32x4.add(
      f32x4.mul(f32x4.convert_i32x4_u(u8x4At(m + 12)), v128.load(xs)),
      f32x4.mul(f32x4.convert_i32x4_u(u8x4At(m + 16)), v128.load(xs, 16)),
    );
    minAcc = f32x4.add(minAcc, f32x4.mul(mins, f32x4.splat(f16At(m + 2))));
  }
  return sumF32x4(acc) - sumF32x4(minAcc);
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

// ---- Q6_K: 210-byte super-blocks: ql[128], qh[64], scales[16] int8, d f16. Each 128-value half n
// uses ql[64n..], qh[32n..], scales[8n..]; for l < 32 the four values l, l+32, l+64, l+96 are
// (low ql[l], low ql[l+32], high ql[l], high ql[l+32]) | 2 bits of qh[l] << 4, minus 32, each with
// the int8 scale of its 16-value sub-block.

export function dotRowQ6_K(w: usize, xq: usize, xd: usize, nsb: i32): f32 {
  let acc = f32x4.splat(0);
  const mask = i8x16.splat(0x0f);
  const three = i8x16.splat(3);
  const bias = i8x16.splat(32);
  for (let sb = 0; sb < nsb; sb++) {
    const p = w + <usize>sb * 210;
    let part = f32x4.splat(0);
    for (let n = 0; n < 2; n++) {
      const ql = p + (<usize>n << 6);
      const qh = p + 128 + (<usize>n << 5);
      const sc = p + 192 + (<usize>n << 3);
      const x = xq + (<usize>sb << 9) + (<usize>n << 8);
      let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0);
      for (let l = 0; l < 32; l += 16) {
        const a = v128.load(ql + l), b = v128.load(ql + 32 + l), h = v128.load(qh + l);
        const q1 = i8x16.sub(v128.or(v128.and(a, mask), i8x16.shl(v128.and(h, three), 4)), bias);
        const q2 = i8x16.sub(v128.or(v128.and(b, mask), i8x16.shl(v128.and(i8x16.shr_u(h, 2), three), 4)), bias);
        const q3 = i8x16.sub(v128.or(i8x16.shr_u(a, 4), i8x16.shl(v128.and(i8x16.shr_u(h, 4), three), 4)), bias);
        const q4 = i8x16.sub(v128.or(i8x16.shr_u(b, 4), i8x16.shl(i8x16.shr_u(h, 6), 4)), bias);
        const is = l >> 4;
        const xl = x + (<usize>l << 1);
        s0 = i32x4.add(s0, i32x4.mul(dot16S(q1, xl), i32x4.splat(<i32>load<i8>(sc + is))));
        s1 = i32x4.add(s1, i32x4.mul(dot16S(q2, xl + 64), i32x4.splat(<i32>load<i8>(sc + is + 2))));
        s2 = i32x4.add(s2, i32x4.mul(dot16S(q3, xl + 128), i32x4.splat(<i32>load<i8>(sc + is + 4))));
        s3 = i32x4.add(s3, i32x4.mul(dot16S(q4, xl + 192), i32x4.splat(<i32>load<i8>(sc + is + 6))));
      }
      const sums = horizontalSum4(s0, s1, s2, s3);
      part = f32x4.add(part, f32x4.mul(f32x4.convert_i32x4_s(sums), v128.load(xd + (<usize>((sb << 3) + (n << 2)) << 2))));
    }
    acc = f32x4.add(acc, f32x4.mul(part, f32x4.splat(f16At(p + 208))));
  }
  return sumF32x4(acc);
}
