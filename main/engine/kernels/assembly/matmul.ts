// Matrix products out[t, r] = sum_c W[r, c] * x[t, c] for every weight type.
// W: [rows, cols] in the layout of types.ts; x: [nTokens, cols] f32 (float weights read it directly,
// quantized weights read its q8 form from quantize.ts); out: [nTokens, rows] f32.
// Rows are split over lanes. For several tokens, ROW_BLOCK rows are kept hot in cache while every
// token passes over them, so each weight byte comes from memory once per matmul.

import { bf16At, bf16x4At, f16At, f16x4At, shareStart, sumF32x4 } from './common';
import { dotRowQ4_0, dotRowQ4_K, dotRowQ5_K, dotRowQ6_K } from './matmul-q4';
import { matmulQ8_0 } from './matmul-q8_0';
import { BF16, F16, F32, Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, rowBytes, rowScaleBytes } from './types';

const ROW_BLOCK: i32 = 16;

export function dotRowF32(w: usize, x: usize, cols: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= cols; i += 8) {
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(w + o), v128.load(x + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(w + o, 16), v128.load(x + o, 16)));
  }
  let total = sumF32x4(f32x4.add(a0, a1));
  for (; i < cols; i++) total += load<f32>(w + (<usize>i << 2)) * load<f32>(x + (<usize>i << 2));
  return total;
}

export function dotRowF16(w: usize, x: usize, cols: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= cols; i += 8) {
    a0 = f32x4.add(a0, f32x4.mul(f16x4At(w + (<usize>i << 1)), v128.load(x + (<usize>i << 2))));
    a1 = f32x4.add(a1, f32x4.mul(f16x4At(w + (<usize>i << 1) + 8), v128.load(x + (<usize>i << 2), 16)));
  }
  let total = sumF32x4(f32x4.add(a0, a1));
  for (; i < cols; i++) total += f16At(w + (<usize>i << 1)) * load<f32>(x + (<usize>i << 2));
  return total;
}

export function dotRowBF16(w: usize, x: usize, cols: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= cols; i += 8) {
    a0 = f32x4.add(a0, f32x4.mul(bf16x4At(w + (<usize>i << 1)), v128.load(x + (<usize>i << 2))));
    a1 = f32x4.add(a1, f32x4.mul(bf16x4At(w + (<usize>i << 1) + 8), v128.load(x + (<usize>i << 2), 16)));
  }
  let total = sumF32x4(f32x4.add(a0, a1));
  for (; i < cols; i++) total += bf16At(w + (<usize>i << 1)) * load<f32>(x + (<usize>i << 2));
  return total;
}

/** Row r of W · token t. */
@inline function dotRow(
  type: i32, w: usize, ws: usize, r: i32, cols: i32, t: i32, x: usize, xq: usize, xd: usize, xsum: usize,
): f32 {
  const row = w + <usize>r * rowBytes(type, cols);
  const nb = cols >> 5;
  const xt = x + ((<usize>t * cols) << 2);
  const xqt = xq + ((<usize>t * cols) << 1);
  const xdt = xd + ((<usize>t * nb) << 2);
  const xsumt = xsum + ((<usize>t * nb) << 2);
  switch (type) {
    case F32: return dotRowF32(row, xt, cols);
    case F16: return dotRowF16(row, xt, cols);
    case BF16: return dotRowBF16(row, xt, cols);
    case Q4_0: return dotRowQ4_0(row, ws + <usize>r * rowScaleBytes(type, cols), xqt, xdt, nb);
    case Q4_K: return dotRowQ4_K(row, ws + <usize>r * rowScaleBytes(type, cols), xqt, xdt, xsumt, cols >> 8);
    case Q5_K: return dotRowQ5_K(row, xqt, xdt, xsumt, cols >> 8);
    case Q6_K: return dotRowQ6_K(row, xqt, xdt, cols >> 8);
  }
  return 0;
}

export function matmul(
  type: i32, w: usize, ws: usize, rows: i32, cols: i32,
  x: usize, xq: usize, xd: usize, xsum: usize, out: usize, nTokens: i32, lane: i32, nLanes: i32,
): void {
  if (type == Q8_0) {
    matmulQ8_0(w, ws, rows, cols, xq, xd, out, nTokens, lane, nLanes);
    return;
  }
  const rowStart = shareStart(rows, lane, nLanes);
  const rowEnd = shareStart(rows, lane + 1, nLanes);
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_BLOCK) {
    const r1 = min(r0 + ROW_BLOCK, rowEnd);
    for (let t = 0; t < nTokens; t++) {
      const o = out + ((<usize>t * rows) << 2);
      for (let r = r0; r < r1; r++) store<f32>(o + (<usize>r << 2), dotRow(type, w, ws, r, cols, t, x, xq, xd, xsum));
    }
  }
}
