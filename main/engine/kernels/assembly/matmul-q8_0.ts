// Q8_0 weights × q8 activations.
// Weights are repacked at upload: quants [rows, cols] int8 (row r at wq + r*cols), and the
// per-block f16 scales [rows, cols/32] (row r at ws + r*cols/32*2). Same bytes as GGUF's 34-byte
// blocks, but every row's quants are contiguous so SIMD loads need no block stride.
//   out[t, r] = sum_b  dw[r, b] * dx[t, b] * sum_{i<32} wq[r, 32b+i] * xq[t, 32b+i]
// Decode (nTokens = 1) streams each weight row once; prefill walks ROW_BLOCK rows at a time and
// multiplies each weight block into 4 tokens while it sits in registers.

import { f16At, f16x4At, fenced, horizontalSum4, sumF32x4, sumI32x4 } from './common';

/** Rows whose weights stay in L1/L2 while every token passes over them (prefill). */
const ROW_BLOCK: i32 = 16;

/** 32 int8 weights at `w` · 32 int16 activations at `x`, as i32x4 partial sums. */
@inline function blockDot(w: usize, x: usize): v128 {
  let s = i32x4.dot_i16x8_s(v128.load8x8_s(w), v128.load(x));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.load8x8_s(w, 8), v128.load(x, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.load8x8_s(w, 16), v128.load(x, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(v128.load8x8_s(w, 24), v128.load(x, 48)));
}

/** One weight row · one quantized token. nb = cols / 32. */
export function dotRowQ8_0(wq: usize, ws: usize, xq: usize, xd: usize, nb: i32): f32 {
  let acc = f32x4.splat(0);
  let b = 0;
  for (; b + 4 <= nb; b += 4) {
    const w = wq + (<usize>b << 5);
    const x = xq + (<usize>b << 6);
    const sums = horizontalSum4(blockDot(w, x), blockDot(w + 32, x + 64), blockDot(w + 64, x + 128), blockDot(w + 96, x + 192));
    const scales = f32x4.mul(f16x4At(ws + (<usize>b << 1)), v128.load(xd + (<usize>b << 2)));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(sums), scales));
  }
  let total = sumF32x4(acc);
  for (; b < nb; b++) {
    const s = sumI32x4(blockDot(wq + (<usize>b << 5), xq + (<usize>b << 6)));
    total += <f32>s * f16At(ws + (<usize>b << 1)) * load<f32>(xd + (<usize>b << 2));
  }
  return total;
}

/** One weight row · four consecutive quantized tokens; writes out[t..t+3, row] (stride rows). */
function dotRowQ8_0x4(wq: usize, ws: usize, xq: usize, xd: usize, nb: i32, out: usize, rows: i32, fence: usize): void {
  const xStride = <usize>nb << 6;
  const dStride = <usize>nb << 2;
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const w = wq + (<usize>b << 5);
    const w0 = v128.load8x8_s(w), w1 = v128.load8x8_s(w, 8), w2 = v128.load8x8_s(w, 16), w3 = v128.load8x8_s(w, 24);
    const dw = f16At(ws + (<usize>b << 1));
    let x = xq + (<usize>b << 6);
    let d = xd + (<usize>b << 2);
    let s = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(x)), i32x4.dot_i16x8_s(w1, v128.load(x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(x, 32)), i32x4.dot_i16x8_s(w3, v128.load(x, 48))),
    );
    a0 = fenced(f32x4.add(a0, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(dw * load<f32>(d)))), fence);
    x += xStride; d += dStride;
    s = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(x)), i32x4.dot_i16x8_s(w1, v128.load(x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(x, 32)), i32x4.dot_i16x8_s(w3, v128.load(x, 48))),
    );
    a1 = fenced(f32x4.add(a1, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(dw * load<f32>(d)))), fence);
    x += xStride; d += dStride;
    s = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(x)), i32x4.dot_i16x8_s(w1, v128.load(x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(x, 32)), i32x4.dot_i16x8_s(w3, v128.load(x, 48))),
    );
    a2 = fenced(f32x4.add(a2, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(dw * load<f32>(d)))), fence);
    x += xStride; d += dStride;
    s = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(x)), i32x4.dot_i16x8_s(w1, v128.load(x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(x, 32)), i32x4.dot_i16x8_s(w3, v128.load(x, 48))),
    );
    a3 = fenced(f32x4.add(a3, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(dw * load<f32>(d)))), fence);
  }
  const rowStride = <usize>rows << 2;
  store<f32>(out, sumF32x4(a0));
  store<f32>(out + rowStride, sumF32x4(a1));
  store<f32>(out + 2 * rowStride, sumF32x4(a2));
  store<f32>(out + 3 * rowStride, sumF32x4(a3));
}

/** out: [nTokens, rows] f32; rows [rowStart, rowEnd) for every token. */
export function matmulQ8_0(
  wq: usize, ws: usize, rows: i32, cols: i32, xq: usize, xd: usize, out: usize, nTokens: i32, rowStart: i32, rowEnd: i32, fence: usize,
): void {
  const nb = cols >> 5;
  const xStride = <usize>nb << 6;
  const dStride = <usize>nb << 2;
  if (nTokens == 1) {
    for (let r = rowStart; r < rowEnd; r++) {
      store<f32>(out + (<usize>r << 2), dotRowQ8_0(wq + <usize>r * cols, ws + <usize>r * (nb << 1), xq, xd, nb));
    }
    return;
  }
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_BLOCK) {
    const r1 = min(r0 + ROW_BLOCK, rowEnd);
    let t = 0;
    for (; t + 4 <= nTokens; t += 4) {
      for (let r = r0; r < r1; r++) {
        dotRowQ8_0x4(
          wq + <usize>r * cols, ws + <usize>r * (nb << 1), xq + <usize>t * xStride, xd + <usize>t * dStride, nb,
          out + ((<usize>t * rows + r) << 2), rows, fence,
        );
      }
    }
    for (; t < nTokens; t++) {
      for (let r = r0; r < r1; r++) {
        const value = dotRowQ8_0(wq + <usize>r * cols, ws + <usize>r * (nb << 1), xq + <usize>t * xStride, xd + <usize>t * dStride, nb);
        store<f32>(out + ((<usize>t * rows + r) << 2), value);
      }
    }
  }
}
