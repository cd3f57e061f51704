// The non-matmul ops of a transformer layer. Activations are f32 [nRows, width] row-major.
// Each takes (lane, nLanes) and does its share; small calls run with nLanes = 1.

import { shareStart, sumF32x4 } from './common';

/** out[t, :] = x[t, :] / sqrt(mean(x[t, :]^2) + eps) * gain.  x, out: [nRows, width]; in place allowed. */
export function rmsnorm(out: usize, x: usize, gain: usize, width: i32, nRows: i32, eps: f32, lane: i32, nLanes: i32): void {
  const end = shareStart(nRows, lane + 1, nLanes);
  for (let t = shareStart(nRows, lane, nLanes); t < end; t++) {
    const xr = x + ((<usize>t * width) << 2);
    const outr = out + ((<usize>t * width) << 2);
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= width; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    let sum = sumF32x4(acc);
    for (; i < width; i++) {
      const v = load<f32>(xr + (<usize>i << 2));
      sum += v * v;
    }
    const scale: f32 = <f32>1 / Mathf.sqrt(sum / <f32>width + eps);
    const s = f32x4.splat(scale);
    i = 0;
    for (; i + 4 <= width; i += 4) {
      const o = <usize>i << 2;
      v128.store(outr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), s), v128.load(gain + o)));
    }
    for (; i < width; i++) {
      const o = <usize>i << 2;
      store<f32>(outr + o, load<f32>(xr + o) * scale * load<f32>(gain + o));
    }
  }
}

/** x[t, :] += bias for nRows rows of width. */
export function addBias(x: usize, bias: usize, width: i32, nRows: i32, lane: i32, nLanes: i32): void {
  const end = shareStart(nRows, lane + 1, nLanes);
  for (let t = shareStart(nRows, lane, nLanes); t < end; t++) add(x + ((<usize>t * width) << 2), x + ((<usize>t * width) << 2), bias, width, 0, 1);
}

/** out[i] = a[i] + b[i]; in place allowed. */
export function add(out: usize, a: usize, b: usize, length: i32, lane: i32, nLanes: i32): void {
  // Shares are whole multiples of 4 so lanes never split a vector.
  const groups = length >> 2;
  const start = shareStart(groups, lane, nLanes) << 2;
  const end = lane + 1 == nLanes ? length : shareStart(groups, lane + 1, nLanes) << 2;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < end; i++) store<f32>(out + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) + load<f32>(b + (<usize>i << 2)));
}

/** out[i] = silu(gate[i]) * up[i] = gate / (1 + exp(-gate)) * up. */
export function swiglu(out: usize, gate: usize, up: usize, length: i32, lane: i32, nLanes: i32): void {
  const end = shareStart(length, lane + 1, nLanes);
  for (let i = shareStart(length, lane, nLanes); i < end; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    store<f32>(out + o, g / (<f32>1 + Mathf.exp(-g)) * load<f32>(up + o));
  }
}

/**
 * Rotary embedding in place. x: [nTokens, nHeads * headDim]; token t at position startPosition + t.
 * Pair i (< headDim / 2) turns by angle position * theta^(-2i / headDim); normal style pairs
 * (2i, 2i + 1), neox style pairs (i, i + headDim / 2). Tokens are split over lanes.
 */
export function rope(
  x: usize, nTokens: i32, nHeads: i32, headDim: i32, startPosition: i32, theta: f32, neox: bool, lane: i32, nLanes: i32,
): void {
  const half = headDim >> 1;
  const end = shareStart(nTokens, lane + 1, nLanes);
  for (let t = shareStart(nTokens, lane, nLanes); t < end; t++) {
    const position = <f64>(startPosition + t);
    const row = x + ((<usize>t * nHeads * headDim) << 2);
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(<f64>theta, <f64>(-2 * i) / <f64>headDim);
      const c = <f32>Math.cos(angle), s = <f32>Math.sin(angle);
      const first: usize = neox ? <usize>i << 2 : <usize>(2 * i) << 2;
      const second: usize = neox ? <usize>(i + half) << 2 : <usize>(2 * i + 1) << 2;
      for (let h = 0; h < nHeads; h++) {
        const head = row + ((<usize>h * headDim) << 2);
        const a = load<f32>(head + first), b = load<f32>(head + second);
        store<f32>(head + first, a * c - b * s);
        store<f32>(head + second, a * s + b * c);
      }
    }
  }
}

/**
 * Causal grouped-query attention with an online softmax (one pass over the keys).
 * q, out: [nTokens, nHeads * headDim]; keys, values: [context, nKvHeads * headDim], holding every
 * position < startPosition + nTokens. Query (t, h) attends positions 0..startPosition + t with kv
 * head floor(h * nKvHeads / nHeads). out must not alias q. (t, h) pairs are dealt out to lanes in
 * turn, so long and short rows of the causal triangle spread evenly. headDim % 4 == 0.
 */
export function attention(
  out: usize, q: usize, keys: usize, values: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, startPosition: i32, nTokens: i32, scale: f32, lane: i32, nLanes: i32,
): void {
  const kvStride = <usize>(nKvHeads * headDim) << 2;
  const items = nTokens * nHeads;
  for (let item = lane; item < items; item += nLanes) {
    const t = item / nHeads, h = item % nHeads;
    const kvHead = <i32>((<i64>h * nKvHeads) / nHeads);
    const qr = q + ((<usize>item * headDim) << 2);
    const o = out + ((<usize>item * headDim) << 2);
    for (let i = 0; i < headDim; i += 4) v128.store(o + (<usize>i << 2), f32x4.splat(0));
    let maximum: f32 = -Infinity;
    let total: f32 = 0;
    const positions = startPosition + t + 1;
    for (let p = 0; p < positions; p++) {
      const k = keys + <usize>p * kvStride + ((<usize>kvHead * headDim) << 2);
      let acc = f32x4.splat(0);
      for (let i = 0; i < headDim; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qr + (<usize>i << 2)), v128.load(k + (<usize>i << 2))));
      const score = sumF32x4(acc) * scale;
      if (score > maximum) {
        // New running maximum: rescale what has been accumulated so far.
        const correction = Mathf.exp(maximum - score);
        total *= correction;
        const c = f32x4.splat(correction);
        for (let i = 0; i < headDim; i += 4) v128.store(o + (<usize>i << 2), f32x4.mul(v128.load(o + (<usize>i << 2)), c));
        maximum = score;
      }
      const weight = Mathf.exp(score - maximum);
      total += weight;
      const v = values + <usize>p * kvStride + ((<usize>kvHead * headDim) << 2);
      const wv = f32x4.splat(weight);
      for (let i = 0; i < headDim; i += 4) {
        const at = <usize>i << 2;
        v128.store(o + at, f32x4.add(v128.load(o + at), f32x4.mul(v128.load(v + at), wv)));
      }
    }
    const inverse = f32x4.splat(<f32>1 / total);
    for (let i = 0; i < headDim; i += 4) v128.store(o + (<usize>i << 2), f32x4.mul(v128.load(o + (<usize>i << 2)), inverse));
  }
}
