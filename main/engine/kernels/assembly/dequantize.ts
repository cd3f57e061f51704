// Dequantizes one weight row to f32 (used by embed). Scalar: it runs for a handful of rows per
// step. Layouts as in types.ts.

import { bf16At, f16At } from './common';
import { BF16, F16, F32, Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, rowBytes, rowScaleBytes } from './types';

@inline function kScale(scales: usize, j: i32): f32 {
  return <f32>(j < 4
    ? <i32>load<u8>(scales + j) & 63
    : (<i32>load<u8>(scales + j + 4) & 0xf) | ((<i32>load<u8>(scales + j - 4) >> 6) << 4));
}

@inline function kMin(scales: usize, j: i32): f32 {
  return <f32>(j < 4
    ? <i32>load<u8>(scales + j + 4) & 63
    : (<i32>load<u8>(scales + j + 4) >> 4) | ((<i32>load<u8>(scales + j) >> 6) << 4));
}

/** out[0..cols) = W[r, :]. */
export function dequantizeRow(type: i32, w: usize, ws: usize, r: i32, cols: i32, out: usize): void {
  if (type == Q8_0) {
    // Interleaved by groups of eight rows (matmul-q8_0.ts): this row's pairs lie 16 bytes apart.
    const nb = cols >> 5;
    const slot = <usize>(r & 7) << 1;
    const values = w + <usize>(r >> 3) * nb * 256 + slot, scales = ws + <usize>(r >> 3) * nb * 16 + slot;
    for (let i = 0; i < cols; i++) {
      const q = <f32>load<i8>(values + (<usize>(i >> 5) << 8) + (<usize>((i & 31) >> 1) << 4) + (i & 1));
      store<f32>(out + (<usize>i << 2), q * f16At(scales + (<usize>(i >> 5) << 4)));
    }
    return;
  }
  const row = w + <usize>r * rowBytes(type, cols);
  const scales = ws + <usize>r * rowScaleBytes(type, cols);
  switch (type) {
    case F32: memory.copy(out, row, <usize>cols << 2); return;
    case F16: for (let i = 0; i < cols; i++) store<f32>(out + (<usize>i << 2), f16At(row + (<usize>i << 1))); return;
    case BF16: for (let i = 0; i < cols; i++) store<f32>(out + (<usize>i << 2), bf16At(row + (<usize>i << 1))); return;
    case Q4_0:
      for (let b = 0; b < cols >> 5; b++) {
        const d = f16At(scales + (<usize>b << 1));
        for (let j = 0; j < 16; j++) {
          const q = <i32>load<u8>(row + (<usize>b << 4) + j);
          store<f32>(out + (<usize>((b << 5) + j) << 2), <f32>((q & 0xf) - 8) * d);
          store<f32>(out + (<usize>((b << 5) + j + 16) << 2), <f32>((q >> 4) - 8) * d);
        }
      }
      return;
    case Q4_K:
      // Repacked (see matmul-q4.ts): qs[128] per super-block here, meta (d, dmin, scales, mins) apart.
      for (let sb = 0; sb < cols >> 8; sb++) {
        const m = scales + <usize>sb * 20;
        const d = f16At(m), dmin = f16At(m + 2);
        for (let j = 0; j < 8; j++) {
          const scale = d * <f32>load<u8>(m + 4 + j), minimum = dmin * <f32>load<u8>(m + 12 + j);
          const qs = row + (<usize>sb << 7) + (<usize>(j >> 1) << 5);
          const shift = (j & 1) << 2;
          for (let l = 0; l < 32; l++) {
            const q = (<i32>load<u8>(qs + l) >> shift) & 0xf;
            store<f32>(out + (<usize>((sb << 8) + (j << 5) + l) << 2), scale * <f32>q - minimum);
          }
        }
      }
      return;
    case Q5_K:
      for (let sb = 0; sb < cols >> 8; sb++) {
        const p = row + <usize>sb * 176;
        const d = f16At(p), dmin = f16At(p + 2);
        for (let j = 0; j < 8; j++) {
          const scale = d * kScale(p + 4, j), minimum = dmin * kMin(p + 4, j);
          const qs = p + 48 + (<usize>(j >> 1) << 5);
          const shift = (j & 1) << 2;
          for (let l = 0; l < 32; l++) {
            const q = ((<i32>load<u8>(qs + l) >> shift) & 0xf) | (((<i32>load<u8>(p + 16 + l) >> j) & 1) << 4);
            store<f32>(out + (<usize>((sb << 8) + (j << 5) + l) << 2), scale * <f32>q - minimum);
          }
        }
      }
      return;
    case Q6_K:
      for (let sb = 0; sb < cols >> 8; sb++) {
        const p = row + <usize>sb * 210;
        const d = f16At(p + 208);
        for (let n = 0; n < 2; n++) {
          const ql = p + (<usize>n << 6), qh = p + 128 + (<usize>n << 5), sc = p + 192 + (<usize>n << 3);
          const base = out + (<usize>((sb << 8) + (n << 7)) << 2);
          for (let l = 0; l < 32; l++) {
            const is = l >> 4;
            const a = <i32>load<u8>(ql + l), b = <i32>load<u8>(ql + 32 + l), h = <i32>load<u8>(qh + l);
            store<f32>(base + (<usize>l << 2), d * <f32>load<i8>(sc + is) * <f32>(((a & 0xf) | ((h & 3) << 4)) - 32));
            store<f32>(base + (<usize>(l + 32) << 2), d * <f32>load<i8>(sc + is + 2) * <f32>(((b & 0xf) | (((h >> 2) & 3) << 4)) - 32));
            store<f32>(base + (<usize>(l + 64) << 2), d * <f32>load<i8>(sc + is + 4) * <f32>(((a >> 4) | (((h >> 4) & 3) << 4)) - 32));
            store<f32>(base + (<usize>(l + 96) << 2), d * <f32>load<i8>(sc + is + 6) * <f32>(((b >> 4) | ((h >> 6) << 4)) - 32));
          }
        }
      }
      return;
  }
}

/** out[t, :] = W[tokens[t], :] for this lane's share of the tokens. tokens: i32 [nTokens]. */
export function embed(type: i32, w: usize, ws: usize, cols: i32, tokens: usize, nTokens: i32, out: usize, lane: i32, nLanes: i32): void {
  const end = <i32>((<i64>nTokens * (lane + 1)) / nLanes);
  for (let t = <i32>((<i64>nTokens * lane) / nLanes); t < end; t++) {
    dequantizeRow(type, w, ws, load<i32>(tokens + (<usize>t << 2)), cols, out + ((<usize>t * cols) << 2));
  }
}
