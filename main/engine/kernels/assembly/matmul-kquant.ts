// Q4_K and Q6_K weights × q8_K activations (quantize.ts), one token (decode) or four at a time
// (prefill: the weights are unpacked once into registers and used for four tokens).
//
// Both formats are summed in integers over a whole 256-value super-block: the 4- or 6-bit
// values are multiplied into the activations as groups of "partial sums" (i16x8 lanes, each the
// sum of two or four products), and each group goes through one i32x4.dot_i16x8_s against its
// sub-block scale splatted to i16 — the multiply by the scale and the widening in one step.
// With relaxed SIMD the products come from i16x8.relaxed_dot_i8x16_i7x16_s (x86: pmaddubsw):
// activations int8, weights unsigned (nibbles 0..15, Q6_K values 0..63 before their -32 offset,
// which is subtracted through the 16-value sums of x instead). Without it, activations are int16
// and the nibbles are widened and multiplied with i16x8.mul. Lane sums stay within i16:
// 4 × 63 × 127 < 32767.

import { f16At, fenced, sumF32x4 } from './common';
import { X_BYTES } from './quantize';

@inline function nibbleLow(v: v128): v128 {
  return v128.and(v, i8x16.splat(0x0f));
}

/** v >> 4 per byte (an i16 shift plus a mask: x86 has no byte shift). */
@inline function nibbleHigh(v: v128): v128 {
  return v128.and(i16x8.shr_u(v, 4), i8x16.splat(0x0f));
}

/** 32 unsigned weights (w0: values 0..15, w1: 16..31) · 32 activations at x: i16x8 of 4-product sums. */
@inline function partial32(w0: v128, w1: v128, x: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x), w0), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x, 16), w1));
  }
  return i16x8.add(
    i16x8.add(i16x8.mul(i16x8.extend_low_i8x16_u(w0), v128.load(x)), i16x8.mul(i16x8.extend_high_i8x16_u(w0), v128.load(x, 16))),
    i16x8.add(i16x8.mul(i16x8.extend_low_i8x16_u(w1), v128.load(x, 32)), i16x8.mul(i16x8.extend_high_i8x16_u(w1), v128.load(x, 48))),
  );
}

/** 16 unsigned weights · 16 activations at x: i16x8 of 2-product sums. */
@inline function partial16(w: v128, x: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x), w);
  return i16x8.add(i16x8.mul(i16x8.extend_low_i8x16_u(w), v128.load(x)), i16x8.mul(i16x8.extend_high_i8x16_u(w), v128.load(x, 16)));
}

// ---- Q4_K, repacked at upload (weight-layout.ts): per super-block qs[128] in the values stream
// (32-byte chunk c: low nibbles = sub-block 2c, high = 2c + 1) and a 20-byte meta record
// d f16, dmin f16, scale u8[8], min u8[8]. value = d * scale_j * q - dmin * min_j.

/** Sub-blocks 2c and 2c+1 (weights already unpacked) · one token: i32x4 of scale-weighted sums. */
@inline function pairQ4_K(low0: v128, low1: v128, high0: v128, high1: v128, x: usize, scaleLow: v128, scaleHigh: v128): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(partial32(low0, low1, x), scaleLow),
    i32x4.dot_i16x8_s(partial32(high0, high1, x + 32 * X_BYTES), scaleHigh),
  );
}

/** Σ_j min_j * (sum of x over sub-block j) for one token, as i32x4. mins: i16x8 of the 8 mins. */
@inline function minsQ4_K(mins: v128, bsums: usize): v128 {
  // bsums holds 16-value sums; pairing them with each min twice gives the 32-value sums.
  return i32x4.add(
    i32x4.dot_i16x8_s(v128.load(bsums), v128.shuffle<i16>(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3)),
    i32x4.dot_i16x8_s(v128.load(bsums, 16), v128.shuffle<i16>(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7)),
  );
}

/** One Q4_K row · one q8_K token. nsb = cols / 256. */
export function dotRowQ4_K(w: usize, meta: usize, xq: usize, xd: usize, bsums: usize, nsb: i32): f32 {
  let total = f32x4.splat(0);
  for (let sb = 0; sb < nsb; sb++) {
    const q = w + (<usize>sb << 7);
    const m = meta + <usize>sb * 20;
    const packed = v128.load(m + 4);
    const scales = i16x8.extend_low_i8x16_u(packed), mins = i16x8.extend_high_i8x16_u(packed);
    const x = xq + (<usize>sb << 8) * X_BYTES;
    let acc = i32x4.splat(0);
    // Chunk c (64 values: sub-blocks 2c, 2c + 1) takes its scales from lanes 0 and 1 of `rotated`.
    let rotated = scales;
    let qc = q, xc = x; // stepped by constants: recomputing both from sb and c took a dozen integer ops a chunk
    for (let c = 0; c < 4; c++, qc += 32, xc += 64 * X_BYTES) {
      const v0 = v128.load(qc), v1 = v128.load(qc, 16);
      acc = i32x4.add(acc, pairQ4_K(nibbleLow(v0), nibbleLow(v1), nibbleHigh(v0), nibbleHigh(v1), xc,
        v128.shuffle<i16>(rotated, rotated, 0, 0, 0, 0, 0, 0, 0, 0), v128.shuffle<i16>(rotated, rotated, 1, 1, 1, 1, 1, 1, 1, 1)));
      rotated = v128.shuffle<i16>(rotated, rotated, 2, 3, 4, 5, 6, 7, 0, 1);
    }
    const dx = load<f32>(xd + (<usize>sb << 2));
    const minSum = minsQ4_K(mins, bsums + (<usize>sb << 5));
    total = f32x4.add(total, f32x4.sub(
      f32x4.mul(f32x4.convert_i32x4_s(acc), f32x4.splat(f16At(m) * dx)),
      f32x4.mul(f32x4.convert_i32x4_s(minSum), f32x4.splat(f16At(m + 2) * dx)),
    ));
  }
  return sumF32x4(total);
}

/**
 * One Q4_K row · four q8_K tokens; writes out[t * outStride] for t < 4.
 * xStride / dStride / sStride: bytes between consecutive tokens' xq / xd / bsums. sums: 64 bytes
 * of the lane's own scratch, where the four tokens' integer sums of a super-block accumulate.
 */
export function dotRowQ4_Kx4(
  w: usize, meta: usize, xq: usize, xd: usize, bsums: usize, nsb: i32,
  xStride: usize, dStride: usize, sStride: usize, out: usize, outStride: usize, sums: usize,
): void {
  let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
  for (let sb = 0; sb < nsb; sb++) {
    const q = w + (<usize>sb << 7);
    const m = meta + <usize>sb * 20;
    const packed = v128.load(m + 4);
    const scales = i16x8.extend_low_i8x16_u(packed), mins = i16x8.extend_high_i8x16_u(packed);
    const x = xq + (<usize>sb << 8) * X_BYTES;
    // The four chunks written out: every offset and scale lane is a constant, and no loop
    // counter or rotating scale vector is carried from one chunk to the next.
    chunkQ4_Kx4(q, x, splatLane16(scales, 0), splatLane16(scales, 1), xStride, sums, true);
    chunkQ4_Kx4(q + 32, x + 64 * X_BYTES, splatLane16(scales, 2), splatLane16(scales, 3), xStride, sums, false);
    chunkQ4_Kx4(q + 64, x + 128 * X_BYTES, splatLane16(scales, 4), splatLane16(scales, 5), xStride, sums, false);
    chunkQ4_Kx4(q + 96, x + 192 * X_BYTES, splatLane16(scales, 6), splatLane16(scales, 7), xStride, sums, false);
    const d = f16At(m), dmin = f16At(m + 2);
    const dxs = xd + (<usize>sb << 2), bs = bsums + (<usize>sb << 5);
    t0 = f32x4.add(t0, finishQ4_K(v128.load(sums), minsQ4_K(mins, bs), d, dmin, load<f32>(dxs)));
    t1 = f32x4.add(t1, finishQ4_K(v128.load(sums, 16), minsQ4_K(mins, bs + sStride), d, dmin, load<f32>(dxs + dStride)));
    t2 = f32x4.add(t2, finishQ4_K(v128.load(sums, 32), minsQ4_K(mins, bs + 2 * sStride), d, dmin, load<f32>(dxs + 2 * dStride)));
    t3 = f32x4.add(t3, finishQ4_K(v128.load(sums, 48), minsQ4_K(mins, bs + 3 * sStride), d, dmin, load<f32>(dxs + 3 * dStride)));
  }
  store<f32>(out, sumF32x4(t0));
  store<f32>(out + outStride, sumF32x4(t1));
  store<f32>(out + 2 * outStride, sumF32x4(t2));
  store<f32>(out + 3 * outStride, sumF32x4(t3));
}

/**
 * Chunk qc (64 values: sub-blocks with scaleLow and scaleHigh) · four tokens from xc, each token's
 * i32x4 sum stored to sums + 16t (first) or added to it. The sums live in memory rather than in
 * registers: each token's store also holds back the next token's loads (V8 keeps memory
 * accesses in program order), which otherwise all issued first and spilled (x86 has 16 vector
 * registers), and the four chunks need no registers carried between them.
 */
@inline function chunkQ4_Kx4(qc: usize, xc: usize, scaleLow: v128, scaleHigh: v128, xStride: usize, sums: usize, first: bool): void {
  const v0 = v128.load(qc), v1 = v128.load(qc, 16);
  const low0 = nibbleLow(v0), low1 = nibbleLow(v1), high0 = nibbleHigh(v0), high1 = nibbleHigh(v1);
  let sum = pairQ4_K(low0, low1, high0, high1, xc, scaleLow, scaleHigh);
  v128.store(sums, first ? sum : i32x4.add(v128.load(sums), sum));
  sum = pairQ4_K(low0, low1, high0, high1, xc + xStride, scaleLow, scaleHigh);
  v128.store(sums, first ? sum : i32x4.add(v128.load(sums, 16), sum), 16);
  sum = pairQ4_K(low0, low1, high0, high1, xc + 2 * xStride, scaleLow, scaleHigh);
  v128.store(sums, first ? sum : i32x4.add(v128.load(sums, 32), sum), 32);
  sum = pairQ4_K(low0, low1, high0, high1, xc + 3 * xStride, scaleLow, scaleHigh);
  v128.store(sums, first ? sum : i32x4.add(v128.load(sums, 48), sum), 48);
}

@inline function finishQ4_K(acc: v128, minSum: v128, d: f32, dmin: f32, dx: f32): v128 {
  return f32x4.sub(
    f32x4.mul(f32x4.convert_i32x4_s(acc), f32x4.splat(d * dx)),
    f32x4.mul(f32x4.convert_i32x4_s(minSum), f32x4.splat(dmin * dx)),
  );
}

// ---- Q6_K in its GGUF layout: 210-byte super-blocks ql[128], qh[64], scales i8[16], d f16.
// Half n (128 values) uses ql[64n..], qh[32n..]; for l < 32 the values at 32k + l (k < 4) are
// low/low/high/high nibbles of ql[l], ql[l+32], ql[l], ql[l+32] with bits 2k..2k+1 of qh[l] on
// top, minus 32; value (16-value group g = 8n + 2k + l/16) × d × scale_g.

/** The four 16-value groups at (n, l0) of one super-block, unsigned 0..63, in q1..q4 order (k = 0..3). */
@inline function q6Quarter(a: v128, b: v128, h: v128, k: i32): v128 {
  const top = i8x16.splat(0x30);
  if (k == 0) return v128.or(nibbleLow(a), v128.and(i16x8.shl(h, 4), top));
  if (k == 1) return v128.or(nibbleLow(b), v128.and(i16x8.shl(h, 2), top));
  if (k == 2) return v128.or(nibbleHigh(a), v128.and(h, top));
  return v128.or(nibbleHigh(b), v128.and(i16x8.shr_u(h, 2), top));
}

/**
 * Splat of i16 lane `lane` of v. `lane` must be a constant where this is inlined: the switch then
 * folds to one shuffle with an immediate mask (one pshufb). A lane index computed at run time
 * would cost a splat and a bounds-saturating swizzle, about five instructions, per use.
 */
@inline function splatLane16(v: v128, lane: i32): v128 {
  switch (lane) {
    case 0: return v128.shuffle<i16>(v, v, 0, 0, 0, 0, 0, 0, 0, 0);
    case 1: return v128.shuffle<i16>(v, v, 1, 1, 1, 1, 1, 1, 1, 1);
    case 2: return v128.shuffle<i16>(v, v, 2, 2, 2, 2, 2, 2, 2, 2);
    case 3: return v128.shuffle<i16>(v, v, 3, 3, 3, 3, 3, 3, 3, 3);
    case 4: return v128.shuffle<i16>(v, v, 4, 4, 4, 4, 4, 4, 4, 4);
    case 5: return v128.shuffle<i16>(v, v, 5, 5, 5, 5, 5, 5, 5, 5);
    case 6: return v128.shuffle<i16>(v, v, 6, 6, 6, 6, 6, 6, 6, 6);
    default: return v128.shuffle<i16>(v, v, 7, 7, 7, 7, 7, 7, 7, 7);
  }
}

/** One Q6_K row · one q8_K token. */
export function dotRowQ6_K(w: usize, xq: usize, xd: usize, bsums: usize, nsb: i32): f32 {
  let total = f32x4.splat(0);
  for (let sb = 0; sb < nsb; sb++) {
    const p = w + <usize>sb * 210;
    const packed = v128.load(p + 192);
    const scalesLow = i16x8.extend_low_i8x16_s(packed), scalesHigh = i16x8.extend_high_i8x16_s(packed);
    const x = xq + (<usize>sb << 8) * X_BYTES;
    let acc = i32x4.splat(0);
    for (let block = 0; block < 4; block++) {
      const n = block >> 1, half = block & 1, l0 = half << 4;
      const a = v128.load(p + (<usize>(n << 6) + l0)), b = v128.load(p + (<usize>(n << 6) + 32 + l0));
      const h = v128.load(p + 128 + (<usize>(n << 5) + l0));
      const s = blockScales(n == 0 ? scalesLow : scalesHigh, half);
      const xb = x + <usize>((n << 7) + l0) * X_BYTES;
      acc = i32x4.add(acc, i32x4.add(
        i32x4.add(
          i32x4.dot_i16x8_s(partial16(q6Quarter(a, b, h, 0), xb), splatLane16(s, 0)),
          i32x4.dot_i16x8_s(partial16(q6Quarter(a, b, h, 1), xb + 32 * X_BYTES), splatLane16(s, 1)),
        ),
        i32x4.add(
          i32x4.dot_i16x8_s(partial16(q6Quarter(a, b, h, 2), xb + 64 * X_BYTES), splatLane16(s, 2)),
          i32x4.dot_i16x8_s(partial16(q6Quarter(a, b, h, 3), xb + 96 * X_BYTES), splatLane16(s, 3)),
        ),
      ));
    }
    total = f32x4.add(total, finishQ6_K(acc, bsums + (<usize>sb << 5), scalesLow, scalesHigh, f16At(p + 208) * load<f32>(xd + (<usize>sb << 2))));
  }
  return sumF32x4(total);
}

/**
 * The scales of quarter-block (n, l0) (l0 = 16 · half): lanes half, half + 2, half + 4, half + 6 of
 * s, moved to lanes 0..3 so a constant-lane splat can pick group k's.
 */
@inline function blockScales(s: v128, half: i32): v128 {
  return half == 0 ? v128.shuffle<i16>(s, s, 0, 2, 4, 6, 0, 2, 4, 6) : v128.shuffle<i16>(s, s, 1, 3, 5, 7, 1, 3, 5, 7);
}

/** One Q6_K row · four q8_K tokens (strides and fence as dotRowQ4_Kx4); each unpacked group serves all four. */
export function dotRowQ6_Kx4(
  w: usize, xq: usize, xd: usize, bsums: usize, nsb: i32,
  xStride: usize, dStride: usize, sStride: usize, out: usize, outStride: usize, fence: usize,
): void {
  let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
  for (let sb = 0; sb < nsb; sb++) {
    const p = w + <usize>sb * 210;
    const packed = v128.load(p + 192);
    const scalesLow = i16x8.extend_low_i8x16_s(packed), scalesHigh = i16x8.extend_high_i8x16_s(packed);
    let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
    const x = xq + (<usize>sb << 8) * X_BYTES;
    for (let block = 0; block < 4; block++) {
      const n = block >> 1, half = block & 1, l0 = half << 4;
      const a = v128.load(p + (<usize>(n << 6) + l0)), b = v128.load(p + (<usize>(n << 6) + 32 + l0));
      const h = v128.load(p + 128 + (<usize>(n << 5) + l0));
      const s = blockScales(n == 0 ? scalesLow : scalesHigh, half);
      const xb = x + <usize>((n << 7) + l0) * X_BYTES;
      // Groups k = 0..3, written out so every shuffle and shift has a constant operand.
      let q = q6Quarter(a, b, h, 0), scale = splatLane16(s, 0), xk = xb;
      a0 = fenced(i32x4.add(a0, i32x4.dot_i16x8_s(partial16(q, xk), scale)), fence);
      a1 = fenced(i32x4.add(a1, i32x4.dot_i16x8_s(partial16(q, xk + xStride), scale)), fence);
      a2 = fenced(i32x4.add(a2, i32x4.dot_i16x8_s(partial16(q, xk + 2 * xStride), scale)), fence);
      a3 = fenced(i32x4.add(a3, i32x4.dot_i16x8_s(partial16(q, xk + 3 * xStride), scale)), fence);
      q = q6Quarter(a, b, h, 1); scale = splatLane16(s, 1); xk = xb + 32 * X_BYTES;
      a0 = fenced(i32x4.add(a0, i32x4.dot_i16x8_s(partial16(q, xk), scale)), fence);
      a1 = fenced(i32x4.add(a1, i32x4.dot_i16x8_s(partial16(q, xk + xStride), scale)), fence);
      a2 = fenced(i32x4.add(a2, i32x4.dot_i16x8_s(partial16(q, xk + 2 * xStride), scale)), fence);
      a3 = fenced(i32x4.add(a3, i32x4.dot_i16x8_s(partial16(q, xk + 3 * xStride), scale)), fence);
      q = q6Quarter(a, b, h, 2); scale = splatLane16(s, 2); xk = xb + 64 * X_BYTES;
      a0 = fenced(i32x4.add(a0, i32x4.dot_i16x8_s(partial16(q, xk), scale)), fence);
      a1 = fenced(i32x4.add(a1, i32x4.dot_i16x8_s(partial16(q, xk + xStride), scale)), fence);
      a2 = fenced(i32x4.add(a2, i32x4.dot_i16x8_s(partial16(q, xk + 2 * xStride), scale)), fence);
      a3 = fenced(i32x4.add(a3, i32x4.dot_i16x8_s(partial16(q, xk + 3 * xStride), scale)), fence);
      q = q6Quarter(a, b, h, 3); scale = splatLane16(s, 3); xk = xb + 96 * X_BYTES;
      a0 = fenced(i32x4.add(a0, i32x4.dot_i16x8_s(partial16(q, xk), scale)), fence);
      a1 = fenced(i32x4.add(a1, i32x4.dot_i16x8_s(partial16(q, xk + xStride), scale)), fence);
      a2 = fenced(i32x4.add(a2, i32x4.dot_i16x8_s(partial16(q, xk + 2 * xStride), scale)), fence);
      a3 = fenced(i32x4.add(a3, i32x4.dot_i16x8_s(partial16(q, xk + 3 * xStride), scale)), fence);
    }
    const d = f16At(p + 208);
    const bs = bsums + (<usize>sb << 5), dxs = xd + (<usize>sb << 2);
    t0 = f32x4.add(t0, finishQ6_K(a0, bs, scalesLow, scalesHigh, d * load<f32>(dxs)));
    t1 = f32x4.add(t1, finishQ6_K(a1, bs + sStride, scalesLow, scalesHigh, d * load<f32>(dxs + dStride)));
    t2 = f32x4.add(t2, finishQ6_K(a2, bs + 2 * sStride, scalesLow, scalesHigh, d * load<f32>(dxs + 2 * dStride)));
    t3 = f32x4.add(t3, finishQ6_K(a3, bs + 3 * sStride, scalesLow, scalesHigh, d * load<f32>(dxs + 3 * dStride)));
  }
  store<f32>(out, sumF32x4(t0));
  store<f32>(out + outStride, sumF32x4(t1));
  store<f32>(out + 2 * outStride, sumF32x4(t2));
  store<f32>(out + 3 * outStride, sumF32x4(t3));
}

@inline function finishQ6_K(acc: v128, bsums: usize, scalesLow: v128, scalesHigh: v128, scale: f32): v128 {
  const offset = i32x4.add(i32x4.dot_i16x8_s(v128.load(bsums), scalesLow), i32x4.dot_i16x8_s(v128.load(bsums, 16), scalesHigh));
  return f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(acc, i32x4.shl(offset, 5))), f32x4.splat(scale));
}
