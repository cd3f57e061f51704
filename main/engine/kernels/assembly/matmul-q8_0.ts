// Q8_0 weights × q8 activations.
// Weights are repacked at upload: quants [rows, cols] int8 (row r at wq + r*cols), and the
// per-block f16 scales [rows, cols/32] (row r at ws + r*cols/32*2). Same bytes as GGUF's 34-byte
// blocks, but every row's quants are contiguous so SIMD loads need no block stride.
//   out[t, r] = sum_b  dw[r, b] * dx[t, b] * sum_{i<32} wq[r, 32b+i] * xq[t, 32b+i]
// Decode (nTokens = 1) streams each weight row once; prefill walks ROW_BLOCK rows at a time and
// multiplies the weight blocks of two rows into 4 tokens while they sit in registers (every
// activation load serves both rows; token scales side by side: xd4, quantize.ts).

import { f16At, f16x4At, fenced, horizontalSum4, madd, sumF32x4, sumI32x4 } from './common';

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

/** 32 int8 weights, widened (w0..w3) · 32 int16 activations at `x`: i32x4 partial sums. */
@inline function blockDotWide(w0: v128, w1: v128, w2: v128, w3: v128, x: usize): v128 {
  return i32x4.add(
    i32x4.add(i32x4.dot_i16x8_s(w0, v128.load(x)), i32x4.dot_i16x8_s(w1, v128.load(x, 16))),
    i32x4.add(i32x4.dot_i16x8_s(w2, v128.load(x, 32)), i32x4.dot_i16x8_s(w3, v128.load(x, 48))),
  );
}

/**
 * [a0 + a1, a2 + a3, b0 + b1, b2 + b3]: lanes 0, 2 and 1, 3 of a and b are each one shufps on x86
 * (another lane order costs two shuffles and a blend). Applied to two of these, it gives the four
 * sums of four vectors.
 */
@inline function pairSum(a: v128, b: v128): v128 {
  return i32x4.add(i32x4.shuffle(a, b, 0, 2, 4, 6), i32x4.shuffle(a, b, 1, 3, 5, 7));
}

/** Writes lanes 0..3 of `sums` to out, out + stride, out + 2 stride, out + 3 stride. */
@inline function storeLanes(sums: v128, out: usize, stride: usize): void {
  store<f32>(out, f32x4.extract_lane(sums, 0));
  store<f32>(out + stride, f32x4.extract_lane(sums, 1));
  store<f32>(out + 2 * stride, f32x4.extract_lane(sums, 2));
  store<f32>(out + 3 * stride, f32x4.extract_lane(sums, 3));
}

/**
 * Two weight rows (A, B) · four consecutive quantized tokens; writes out[t..t+3, row A] and the
 * same for row B at outB. Every activation load serves both rows. A block's four token sums per
 * row are added across lanes in integers (exact) into one vector, scaled by the row's dw times the
 * four tokens' scales (xd4: side by side) in one multiply-add, so the float work is per block
 * rather than per block and token. Scratch: 32 bytes of fences, then each row's four f32 scales.
 */
function dotRowsQ8_0x2x4(
  wqA: usize, wsA: usize, wqB: usize, wsB: usize, xq: usize, xd4: usize, nb: i32, out: usize, outB: usize, rows: i32, scratch: usize,
): void {
  const xStride = <usize>nb << 6;
  const fence = scratch, scalesA = scratch + 32, scalesB = scratch + 48;
  let accA = f32x4.splat(0), accB = f32x4.splat(0);
  let b = 0;
  while (b < nb) {
    // The rows' f16 block scales, four at a time (one at a time at the end of a row).
    const four = b + 4 <= nb;
    if (four) {
      v128.store(scalesA, f16x4At(wsA + (<usize>b << 1)));
      v128.store(scalesB, f16x4At(wsB + (<usize>b << 1)));
    } else {
      store<f32>(scalesA, f16At(wsA + (<usize>b << 1)));
      store<f32>(scalesB, f16At(wsB + (<usize>b << 1)));
    }
    const last = b + (four ? 4 : 1);
    for (let k: usize = 0; b < last; b++, k += 4) {
      const a = wqA + (<usize>b << 5), c = wqB + (<usize>b << 5);
      const a0 = v128.load8x8_s(a), a1 = v128.load8x8_s(a, 8), a2 = v128.load8x8_s(a, 16), a3 = v128.load8x8_s(a, 24);
      const c0 = v128.load8x8_s(c), c1 = v128.load8x8_s(c, 8), c2 = v128.load8x8_s(c, 16), c3 = v128.load8x8_s(c, 24);
      let x = xq + (<usize>b << 6);
      let xv = v128.load(x);
      let sA = i32x4.dot_i16x8_s(a0, xv), sB = i32x4.dot_i16x8_s(c0, xv);
      xv = v128.load(x, 16); sA = i32x4.add(sA, i32x4.dot_i16x8_s(a1, xv)); sB = i32x4.add(sB, i32x4.dot_i16x8_s(c1, xv));
      xv = v128.load(x, 32); sA = i32x4.add(sA, i32x4.dot_i16x8_s(a2, xv)); sB = i32x4.add(sB, i32x4.dot_i16x8_s(c2, xv));
      xv = v128.load(x, 48); sA = i32x4.add(sA, i32x4.dot_i16x8_s(a3, xv)); sB = i32x4.add(sB, i32x4.dot_i16x8_s(c3, xv));
      sA = fenced(sA, fence); sB = fenced(sB, fence + 16);
      x += xStride;
      xv = v128.load(x);
      let tA = i32x4.dot_i16x8_s(a0, xv), tB = i32x4.dot_i16x8_s(c0, xv);
      xv = v128.load(x, 16); tA = i32x4.add(tA, i32x4.dot_i16x8_s(a1, xv)); tB = i32x4.add(tB, i32x4.dot_i16x8_s(c1, xv));
      xv = v128.load(x, 32); tA = i32x4.add(tA, i32x4.dot_i16x8_s(a2, xv)); tB = i32x4.add(tB, i32x4.dot_i16x8_s(c2, xv));
      xv = v128.load(x, 48); tA = i32x4.add(tA, i32x4.dot_i16x8_s(a3, xv)); tB = i32x4.add(tB, i32x4.dot_i16x8_s(c3, xv));
      tA = fenced(tA, fence); tB = fenced(tB, fence + 16);
      const pairA = pairSum(sA, tA), pairB = pairSum(sB, tB);
      x += xStride;
      xv = v128.load(x);
      sA = i32x4.dot_i16x8_s(a0, xv); sB = i32x4.dot_i16x8_s(c0, xv);
      xv = v128.load(x, 16); sA = i32x4.add(sA, i32x4.dot_i16x8_s(a1, xv)); sB = i32x4.add(sB, i32x4.dot_i16x8_s(c1, xv));
      xv = v128.load(x, 32); sA = i32x4.add(sA, i32x4.dot_i16x8_s(a2, xv)); sB = i32x4.add(sB, i32x4.dot_i16x8_s(c2, xv));
      xv = v128.load(x, 48); sA = i32x4.add(sA, i32x4.dot_i16x8_s(a3, xv)); sB = i32x4.add(sB, i32x4.dot_i16x8_s(c3, xv));
      sA = fenced(sA, fence); sB = fenced(sB, fence + 16);
      x += xStride;
      xv = v128.load(x);
      tA = i32x4.dot_i16x8_s(a0, xv); tB = i32x4.dot_i16x8_s(c0, xv);
      xv = v128.load(x, 16); tA = i32x4.add(tA, i32x4.dot_i16x8_s(a1, xv)); tB = i32x4.add(tB, i32x4.dot_i16x8_s(c1, xv));
      xv = v128.load(x, 32); tA = i32x4.add(tA, i32x4.dot_i16x8_s(a2, xv)); tB = i32x4.add(tB, i32x4.dot_i16x8_s(c2, xv));
      xv = v128.load(x, 48); tA = i32x4.add(tA, i32x4.dot_i16x8_s(a3, xv)); tB = i32x4.add(tB, i32x4.dot_i16x8_s(c3, xv));
      tA = fenced(tA, fence); tB = fenced(tB, fence + 16);
      const dx = v128.load(xd4 + (<usize>b << 4));
      accA = madd(f32x4.convert_i32x4_s(pairSum(pairA, pairSum(sA, tA))), f32x4.mul(v128.load32_splat(scalesA + k), dx), accA);
      accB = madd(f32x4.convert_i32x4_s(pairSum(pairB, pairSum(sB, tB))), f32x4.mul(v128.load32_splat(scalesB + k), dx), accB);
    }
  }
  const stride = <usize>rows << 2;
  storeLanes(accA, out, stride);
  storeLanes(accB, outB, stride);
}

/** One weight row · four consecutive quantized tokens (the odd row of a block): dotRowsQ8_0x2x4 for one row. */
function dotRowQ8_0x4(wq: usize, ws: usize, xq: usize, xd4: usize, nb: i32, out: usize, rows: i32, fence: usize): void {
  const xStride = <usize>nb << 6;
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const w = wq + (<usize>b << 5);
    const w0 = v128.load8x8_s(w), w1 = v128.load8x8_s(w, 8), w2 = v128.load8x8_s(w, 16), w3 = v128.load8x8_s(w, 24);
    const x = xq + (<usize>b << 6);
    const s0 = fenced(blockDotWide(w0, w1, w2, w3, x), fence);
    const pair01 = fenced(pairSum(s0, blockDotWide(w0, w1, w2, w3, x + xStride)), fence);
    const s2 = fenced(blockDotWide(w0, w1, w2, w3, x + 2 * xStride), fence);
    const sums = pairSum(pair01, pairSum(s2, blockDotWide(w0, w1, w2, w3, x + 3 * xStride)));
    const scales = f32x4.mul(f32x4.splat(f16At(ws + (<usize>b << 1))), v128.load(xd4 + (<usize>b << 4)));
    acc = madd(f32x4.convert_i32x4_s(sums), scales, acc);
  }
  storeLanes(acc, out, <usize>rows << 2);
}

/** out: [nTokens, rows] f32; rows [rowStart, rowEnd) for every token. */
export function matmulQ8_0(
  wq: usize, ws: usize, rows: i32, cols: i32, xq: usize, xd: usize, out: usize, nTokens: i32, rowStart: i32, rowEnd: i32, scratch: usize,
): void {
  const nb = cols >> 5;
  const xStride = <usize>nb << 6;
  const dStride = <usize>nb << 2;
  // The scales by groups of four tokens follow xd and xsum (quantize.ts).
  const xd4 = xd + (<usize>(nTokens * nb) << 3);
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
      const xqt = xq + <usize>t * xStride, xdt = xd4 + <usize>(t >> 2) * (dStride << 2);
      let r = r0;
      for (; r + 2 <= r1; r += 2) {
        dotRowsQ8_0x2x4(
          wq + <usize>r * cols, ws + <usize>r * (nb << 1), wq + <usize>(r + 1) * cols, ws + <usize>(r + 1) * (nb << 1), xqt, xdt, nb,
          out + ((<usize>t * rows + r) << 2), out + ((<usize>t * rows + r + 1) << 2), rows, scratch,
        );
      }
      if (r < r1) dotRowQ8_0x4(wq + <usize>r * cols, ws + <usize>r * (nb << 1), xqt, xdt, nb, out + ((<usize>t * rows + r) << 2), rows, scratch);
    }
    for (; t < nTokens; t++) {
      for (let r = r0; r < r1; r++) {
        const value = dotRowQ8_0(wq + <usize>r * cols, ws + <usize>r * (nb << 1), xq + <usize>t * xStride, xd + <usize>t * dStride, nb);
        store<f32>(out + ((<usize>t * rows + r) << 2), value);
      }
    }
  }
}
