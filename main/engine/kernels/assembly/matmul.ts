// Matrix products out[t, r] = sum_c W[r, c] * x[t, c] for every weight type.
// W: [rows, cols] in the layout of types.ts; x: [nTokens, cols] f32 (float weights read it directly,
// quantized weights read its q8 form from quantize.ts); out: [nTokens, rows] f32.
// A chunk of the op covers a range of rows. For several tokens, ROW_BLOCK rows are kept hot in cache while every
// token passes over them, so each weight byte comes from memory once per matmul.

import { bf16At, bf16x4At, f16At, f16x4At, shareStart, sumF32x4 } from './common';
import { dotRowQ4_K, dotRowQ4_Kx4, dotRowQ6_K, dotRowQ6_Kx4 } from './matmul-kquant';
import { dotRowQ4_0, dotRowQ4_0x4, dotRowQ5_K } from './matmul-q4';
import { matmulQ8_0 } from './matmul-q8_0';
import { X_BYTES } from './quantize';
import { BF16, F16, F32, Q4_0, Q4_K, Q5_K, Q6_K, Q8_0, rowBytes, rowScaleBytes } from './types';

const ROW_BLOCK: i32 = 16;
/** Rows are dealt out to chunks by groups of this many: the Q8_0 layout interleaves eight rows. */
const ROW_GROUP: i32 = 8;

/**
 * Scratch bytes per chunk of a matmul over `cols` columns: the "fence" slot the four-token kernels
 * store to between tokens (16 bytes, see fenced; Q4_K's four token sums, 64), or the Q8_0 tile's
 * accumulators (128 bytes), then
 * the Q8_0 row group's f32 scales (32 bytes per block of 32 columns). A multiple of 64, so lanes
 * never share a cache line.
 */
export function matmulScratchBytes(cols: i32): i32 {
  return 128 + ((cols + 63) & ~63);
}

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

/** Row r of W · token t, for the types without a four-token kernel. */
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
    case Q5_K: return dotRowQ5_K(row, xqt, xdt, xsumt, cols >> 8);
  }
  return 0;
}

/**
 * out[t, r] = W[r, :] · x[t, :] for rows [rowStart, rowEnd) and every token. W: [rows, cols] in the
 * layout of types.ts; x: [nTokens, cols] f32 for float weights, else its quantized form (xq, xd,
 * xsum: q8 blocks of 32 for Q8_0/Q4_0/Q5_K, q8_K for Q4_K/Q6_K; see quantize.ts).
 */
export function matmulRows(
  type: i32, w: usize, ws: usize, rows: i32, cols: i32,
  x: usize, xq: usize, xd: usize, xsum: usize, out: usize, nTokens: i32, rowStart: i32, rowEnd: i32, scratch: usize,
): void {
  if (rowStart >= rowEnd) return;
  if (type == Q8_0) {
    matmulQ8_0(w, ws, rows, cols, xq, xd, out, nTokens, rowStart, rowEnd, scratch);
    return;
  }
  if (type == Q4_K || type == Q6_K || type == Q4_0) {
    matmulTiled(type, w, ws, rows, cols, xq, xd, xsum, out, nTokens, rowStart, rowEnd, scratch);
    return;
  }
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_BLOCK) {
    const r1 = min(r0 + ROW_BLOCK, rowEnd);
    for (let t = 0; t < nTokens; t++) {
      const o = out + ((<usize>t * rows) << 2);
      for (let r = r0; r < r1; r++) store<f32>(o + (<usize>r << 2), dotRow(type, w, ws, r, cols, t, x, xq, xd, xsum));
    }
  }
}

/** Q4_K, Q6_K, Q4_0: ROW_BLOCK rows stay in cache while the tokens pass over them four at a time. */
function matmulTiled(
  type: i32, w: usize, ws: usize, rows: i32, cols: i32,
  xq: usize, xd: usize, xsum: usize, out: usize, nTokens: i32, rowStart: i32, rowEnd: i32, fence: usize,
): void {
  const kQuant = type != Q4_0;
  // Per-token strides of the activation form (q8_K for K-quants, q8 blocks of 32 for Q4_0).
  const xStride: usize = kQuant ? <usize>cols * X_BYTES : <usize>cols << 1;
  const dStride: usize = kQuant ? <usize>(cols >> 8) << 2 : <usize>(cols >> 5) << 2;
  const sStride: usize = <usize>(cols >> 4) << 1;
  const valueBytes = rowBytes(type, cols), scaleBytes = rowScaleBytes(type, cols);
  const outStride = <usize>rows << 2;
  for (let r0 = rowStart; r0 < rowEnd; r0 += ROW_BLOCK) {
    const r1 = min(r0 + ROW_BLOCK, rowEnd);
    let t = 0;
    for (; t + 4 <= nTokens; t += 4) {
      const xqt = xq + <usize>t * xStride, xdt = xd + <usize>t * dStride, xst = xsum + <usize>t * sStride;
      for (let r = r0; r < r1; r++) {
        const row = w + <usize>r * valueBytes, scales = ws + <usize>r * scaleBytes;
        const o = out + ((<usize>t * rows + r) << 2);
        if (type == Q4_K) dotRowQ4_Kx4(row, scales, xqt, xdt, xst, cols >> 8, xStride, dStride, sStride, o, outStride, fence);
        else if (type == Q6_K) dotRowQ6_Kx4(row, xqt, xdt, xst, cols >> 8, xStride, dStride, sStride, o, outStride, fence);
        else dotRowQ4_0x4(row, scales, xqt, xdt, cols >> 5, xStride, dStride, o, outStride, fence);
      }
    }
    for (; t < nTokens; t++) {
      const xqt = xq + <usize>t * xStride, xdt = xd + <usize>t * dStride, xst = xsum + <usize>t * sStride;
      for (let r = r0; r < r1; r++) {
        const row = w + <usize>r * valueBytes, scales = ws + <usize>r * scaleBytes;
        let value: f32;
        if (type == Q4_K) value = dotRowQ4_K(row, scales, xqt, xdt, xst, cols >> 8);
        else if (type == Q6_K) value = dotRowQ6_K(row, xqt, xdt, xst, cols >> 8);
        else value = dotRowQ4_0(row, scales, xqt, xdt, cols >> 5);
        store<f32>(out + ((<usize>t * rows + r) << 2), value);
      }
    }
  }
}

/**
 * One matmul op over 1..3 weights that share an input (q/k/v, gate/up): the chunk takes share
 * `lane` of `nLanes` of their row groups (ROW_GROUP rows, fewer at a weight's end) laid end to
 * end. Arguments at `args` (u32 words):
 * [0] count  [1] cols  [2] nTokens  [3] x  [4] xq  [5] xd  [6] xsum, then per weight
 * [7 + 5i ..] type, w, ws, rows, out, and after them the scratch (matmulScratchBytes(cols) per chunk).
 */
export function matmulShare(args: usize, lane: i32, nLanes: i32): void {
  const count = load<i32>(args);
  const cols = load<i32>(args, 4), nTokens = load<i32>(args, 8);
  let totalGroups = 0;
  for (let i = 0; i < count; i++) totalGroups += (load<i32>(args + 28 + <usize>(i * 20), 12) + ROW_GROUP - 1) / ROW_GROUP;
  const start = shareStart(totalGroups, lane, nLanes), end = shareStart(totalGroups, lane + 1, nLanes);
  const scratch = load<u32>(args + 28 + <usize>(count * 20)) + <usize>lane * matmulScratchBytes(cols);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const weight = args + 28 + <usize>(i * 20);
    const rows = load<i32>(weight, 12);
    const groups = (rows + ROW_GROUP - 1) / ROW_GROUP;
    const rowStart = max(start - offset, 0) * ROW_GROUP, rowEnd = min(min(end - offset, groups) * ROW_GROUP, rows);
    matmulRows(
      load<i32>(weight), load<u32>(weight, 4), load<u32>(weight, 8), rows, cols,
      load<u32>(args, 12), load<u32>(args, 16), load<u32>(args, 20), load<u32>(args, 24), load<u32>(weight, 16),
      nTokens, rowStart, rowEnd, scratch,
    );
    offset += groups;
  }
}
