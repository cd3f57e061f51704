// The non-matmul ops of a transformer layer. Activations are f32 [nRows, width] row-major.
// Each takes (lane, nLanes) and does its share; small calls run with nLanes = 1.

import { expF32x4, f16x4At, horizontalSumF32x4, madd, shareStart, sumF32x4 } from './common';

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
  // Shares are whole multiples of 4 so lanes never split a vector.
  const groups = length >> 2;
  const start = shareStart(groups, lane, nLanes) << 2;
  const end = lane + 1 == nLanes ? length : shareStart(groups, lane + 1, nLanes) << 2;
  const one = f32x4.splat(1);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(gate + o);
    v128.store(out + o, f32x4.mul(f32x4.div(g, f32x4.add(one, expF32x4(f32x4.neg(g)))), v128.load(up + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(gate + o);
    const e = f32x4.extract_lane(expF32x4(f32x4.splat(-g)), 0);
    store<f32>(out + o, g / (<f32>1 + e) * load<f32>(up + o));
  }
}

/**
 * Rotary embedding in place. x: [nTokens, nHeads * headDim]; token t at position startPosition + t.
 * Pair i (< headDim / 2) turns by angle position * theta^(-2i / headDim) / factors[i] (factors: f32
 * [headDim / 2], Llama 3.x rope_freqs; 0 = all 1); normal style pairs (2i, 2i + 1), neox style pairs
 * (i, i + headDim / 2). Tokens are split over lanes.
 */
export function rope(
  x: usize, nTokens: i32, nHeads: i32, headDim: i32, startPosition: i32, theta: f32, neox: bool, factors: usize, lane: i32, nLanes: i32,
): void {
  const half = headDim >> 1;
  const end = shareStart(nTokens, lane + 1, nLanes);
  for (let t = shareStart(nTokens, lane, nLanes); t < end; t++) {
    const position = <f64>(startPosition + t);
    const row = x + ((<usize>t * nHeads * headDim) << 2);
    for (let i = 0; i < half; i++) {
      let angle = position * Math.pow(<f64>theta, <f64>(-2 * i) / <f64>headDim);
      if (factors != 0) angle /= <f64>load<f32>(factors + (<usize>i << 2));
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
 * Causal grouped-query attention. q, out: [nTokens, nHeads * headDim] f32; keys, values: caches
 * [nKvHeads, capacity, headDim] (each kv head's positions back to back, see storeKv), f16 when
 * halfKv (the KV cache's default) else f32, holding every position < startPosition + nTokens.
 * Query (t, h) attends positions 0..startPosition + t with kv head floor(h * nKvHeads / nHeads).
 * out must not alias q. headDim % 4 == 0.
 *
 * groups == 0: (t, h) pairs are dealt out to chunks in turn, so long and short rows of the causal
 * triangle spread evenly. Each chunk's scratch holds its scores (2 * (startPosition + nTokens)
 * f32, two heads' when paired) and two maxima. Three passes per query: scores (and their
 * maximum), softmax weights, then the weighted sum of the values a few dimensions at a time with
 * the sums in registers, so the output is written once.
 * groups > 0 (prefill over an f16 cache): see attentionBlocked, which walks blocks of `block`
 * positions. nChunks must be nKvHeads * groups.
 * chunkBytes: scratch bytes per chunk, from the host (wasm-backend.ts), which sizes both forms.
 */
export function attention(
  out: usize, q: usize, keys: usize, values: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, startPosition: i32, nTokens: i32, scale: f32, halfKv: bool, scratch: usize,
  groups: i32, capacity: i32, block: i32, chunkBytes: i32, lane: i32, nLanes: i32,
): void {
  const chunkScratch = scratch + <usize>lane * <usize>chunkBytes;
  if (groups > 0 && halfKv) {
    attentionBlocked(out, q, keys, values, nHeads, nKvHeads, headDim, startPosition, nTokens, scale, capacity, lane / groups, lane % groups, groups, block, chunkScratch);
    return;
  }
  // Query heads in pairs where each kv head serves an even number of them: one load of a key or
  // value feeds both.
  const paired = (nHeads / nKvHeads) % 2 == 0;
  if (halfKv) attentionItems<u16>(out, q, keys, values, nHeads, nKvHeads, headDim, startPosition, nTokens, scale, capacity, chunkScratch, paired, lane, nLanes);
  else attentionItems<f32>(out, q, keys, values, nHeads, nKvHeads, headDim, startPosition, nTokens, scale, capacity, chunkScratch, paired, lane, nLanes);
}

/** The (t, h) items of chunk `lane`, h a pair of heads (attendPair) where paired, else one (attendOne). */
@inline function attentionItems<T>(
  out: usize, q: usize, keys: usize, values: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, startPosition: i32, nTokens: i32, scale: f32, capacity: i32, scores: usize, paired: bool,
  lane: i32, nLanes: i32,
): void {
  const kvStride = <usize>headDim * <usize>sizeof<T>();
  const headStride = <usize>capacity * kvStride;
  const width = paired ? 2 : 1;
  const perToken = nHeads / width;
  const items = nTokens * perToken;
  const rowBytes = <usize>headDim << 2;
  for (let item = lane; item < items; item += nLanes) {
    const t = item / perToken, h = (item % perToken) * width;
    const kvHead = <i32>((<i64>h * nKvHeads) / nHeads);
    const headOffset = <usize>kvHead * headStride;
    const at = (<usize>(t * nHeads + h)) * rowBytes;
    const positions = startPosition + t + 1;
    if (paired) attendPair<T>(q + at, out + at, keys + headOffset, values + headOffset, kvStride, headDim, positions, scale, scores);
    else attendOne<T>(q + at, out + at, keys + headOffset, values + headOffset, kvStride, headDim, positions, scale, scores);
  }
}

/**
 * Prefill over an f16 cache: chunk (kvHead, group) serves query heads of one kv head for tokens
 * t ≡ group (mod groups). It walks the positions in blocks: converts a block's keys and values
 * to f32 once, small enough to stay in the core's cache, and every query of the chunk attends
 * that block before the next is read (a whole long context would stream from L3 once per query).
 * Softmax runs online: each query row keeps its running maximum and weight sum, and rescales
 * its partial output when a later block raises the maximum; the last block divides by the sum.
 * scratch: two block maxima (16 bytes), two rows of block scores, the block's keys and values as
 * f32, then (maximum, sum) for each of the chunk's query rows.
 */
function attentionBlocked(
  out: usize, q: usize, keys: usize, values: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, startPosition: i32, nTokens: i32, scale: f32, capacity: i32,
  kvHead: i32, group: i32, groups: i32, block: i32, scratch: usize,
): void {
  if (group >= nTokens) return;
  const lastToken = group + ((nTokens - 1 - group) / groups) * groups;
  const needed = startPosition + lastToken + 1;
  const rowBytes = <usize>headDim << 2;
  const blockMax = scratch;
  const scores0 = scratch + 16, scores1 = scores0 + (<usize>block << 2);
  const keysF32 = scores1 + (<usize>block << 2);
  const valuesF32 = keysF32 + <usize>block * rowBytes;
  const running = valuesF32 + <usize>block * rowBytes; // [token slot, head] (maximum, sum)
  const perKv = nHeads / nKvHeads, first = kvHead * perKv;
  const headOffset = (<usize>kvHead * <usize>capacity * <usize>headDim) << 1;
  const tokenBytes = <usize>nHeads * rowBytes;
  for (let p0 = 0; p0 < needed; p0 += block) {
    const count = min(block, needed - p0);
    const from = headOffset + ((<usize>p0 * <usize>headDim) << 1);
    halfToF32(keys + from, keysF32, count * headDim);
    halfToF32(values + from, valuesF32, count * headDim);
    // Token t (slot s) needs positions < startPosition + t + 1; later tokens need more.
    let slot = 0;
    for (let t = group; t < nTokens; t += groups, slot++) {
      const positions = startPosition + t + 1;
      if (positions <= p0) continue;
      const n = min(count, positions - p0);
      const firstBlock = p0 == 0, lastBlock = p0 + n == positions;
      const qt = q + <usize>t * tokenBytes, ot = out + <usize>t * tokenBytes;
      const state = running + ((<usize>(slot * perKv)) << 3);
      let h = 0;
      for (; h + 2 <= perKv; h += 2) {
        const at = <usize>(first + h) * rowBytes;
        pairScores<f32>(qt + at, keysF32, rowBytes, headDim, n, scale, scores0, scores1, blockMax);
        const keep0 = onlineSoftmax(scores0, n, state + (<usize>h << 3), load<f32>(blockMax), firstBlock);
        const keep1 = onlineSoftmax(scores1, n, state + (<usize>(h + 1) << 3), load<f32>(blockMax, 4), firstBlock);
        const post0: f32 = lastBlock ? <f32>1 / load<f32>(state + (<usize>h << 3), 4) : 1;
        const post1: f32 = lastBlock ? <f32>1 / load<f32>(state + (<usize>(h + 1) << 3), 4) : 1;
        pairValues<f32>(ot + at, valuesF32, rowBytes, headDim, n, scores0, scores1, keep0, keep1, post0, post1, !firstBlock);
      }
      if (h < perKv) {
        const at = <usize>(first + h) * rowBytes;
        const maximum = oneScores<f32>(qt + at, keysF32, rowBytes, headDim, n, scale, scores0);
        const keep = onlineSoftmax(scores0, n, state + (<usize>h << 3), maximum, firstBlock);
        const post: f32 = lastBlock ? <f32>1 / load<f32>(state + (<usize>h << 3), 4) : 1;
        oneValues<f32>(ot + at, valuesF32, rowBytes, headDim, n, scores0, keep, post, !firstBlock);
      }
    }
  }
}

/**
 * One query row's block of scores into softmax weights against its running state (maximum,
 * sum) at `state`, which it updates. Returns the factor the row's earlier output must be scaled
 * by (exp(old maximum - new maximum); 0 on the first block, where there is none).
 */
@inline function onlineSoftmax(scores: usize, count: i32, state: usize, blockMaximum: f32, firstBlock: bool): f32 {
  if (firstBlock) {
    const sum = softmaxWeights<f32>(scores, count, blockMaximum);
    store<f32>(state, blockMaximum);
    store<f32>(state, sum, 4);
    return 0;
  }
  const previous = load<f32>(state);
  const maximum = max(previous, blockMaximum);
  const keep = f32x4.extract_lane(expF32x4(f32x4.splat(previous - maximum)), 0);
  const sum = softmaxWeights<f32>(scores, count, maximum);
  store<f32>(state, maximum);
  store<f32>(state, load<f32>(state, 4) * keep + sum, 4);
  return keep;
}

/** count f16 values at src as f32 at dst (count % 4 == 0). */
function halfToF32(src: usize, dst: usize, count: i32): void {
  for (let i = 0; i < count; i += 4) v128.store(dst + (<usize>i << 2), f16x4At(src + (<usize>i << 1)));
}

/** Softmax weights in place over scores[0..positions) (times the cache unscale); returns their sum. */
@inline function softmaxWeights<T>(scores: usize, positions: i32, maximum: f32): f32 {
  const top = f32x4.splat(maximum), unscale = f32x4.splat(cacheUnscale<T>());
  let sums = f32x4.splat(0);
  let p = 0;
  for (; p + 4 <= positions; p += 4) {
    const at = scores + (<usize>p << 2);
    const weights = expF32x4(f32x4.sub(v128.load(at), top));
    sums = f32x4.add(sums, weights);
    v128.store(at, f32x4.mul(weights, unscale));
  }
  let total = sumF32x4(sums);
  for (; p < positions; p++) {
    const at = scores + (<usize>p << 2);
    const weight = f32x4.extract_lane(expF32x4(f32x4.splat(load<f32>(at) - maximum)), 0);
    total += weight;
    store<f32>(at, weight * cacheUnscale<T>());
  }
  return total;
}

/**
 * Query rows q0 and q0 + headDim (two heads of one kv head) over positions 0..positions-1 of
 * keys/values (already at the kv head; kvStride bytes between positions); out rows at o0 likewise.
 * scores: room for 2 * positions + 2 f32.
 */
function attendPair<T>(
  q0: usize, o0: usize, keys: usize, values: usize, kvStride: usize, headDim: i32, positions: i32, scale: f32, scores: usize,
): void {
  const scores0 = scores, scores1 = scores + (<usize>positions << 2);
  const maxima = scores1 + (<usize>positions << 2); // past both rows of scores
  pairScores<T>(q0, keys, kvStride, headDim, positions, scale, scores0, scores1, maxima);
  const inverse0 = <f32>1 / softmaxWeights<T>(scores0, positions, load<f32>(maxima));
  const inverse1 = <f32>1 / softmaxWeights<T>(scores1, positions, load<f32>(maxima, 4));
  pairValues<T>(o0, values, kvStride, headDim, positions, scores0, scores1, 0, 0, inverse0, inverse1, false);
}

/**
 * scores0/scores1[p] = (q0 or q1 row) · key p × scale for p < positions, q1 = q0 + headDim; the
 * two maxima to maxima[0..2).
 */
@inline function pairScores<T>(
  q0: usize, keys: usize, kvStride: usize, headDim: i32, positions: i32, scale: f32, scores0: usize, scores1: usize, maxima: usize,
): void {
  const elementBytes = <usize>sizeof<T>();
  // Keys come from cacheX4 times 2^-112 (f16): the queries are scaled up by as much instead, so
  // every product is the true one (a query beyond 65504, f16's own limit, would overflow).
  const unscale = f32x4.splat(cacheUnscale<T>());
  const q1 = q0 + (<usize>headDim << 2);
  let maximum0: f32 = -Infinity, maximum1: f32 = -Infinity;
  // Four positions at a time: each q load serves four keys, and the eight sums are independent
  // chains (one chain per head was bound by the add latency, not by the arithmetic).
  let p = 0;
  if (positions >= 4) {
    let max0 = f32x4.splat(-Infinity), max1 = f32x4.splat(-Infinity);
    const scale4 = f32x4.splat(scale);
    for (; p + 4 <= positions; p += 4) {
      const k0 = keys + <usize>p * kvStride, k1 = k0 + kvStride, k2 = k1 + kvStride, k3 = k2 + kvStride;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      for (let i = 0; i < headDim; i += 4) {
        let qa = v128.load(q0 + (<usize>i << 2)), qb = v128.load(q1 + (<usize>i << 2));
        if (sizeof<T>() == 2) {
          qa = f32x4.mul(qa, unscale);
          qb = f32x4.mul(qb, unscale);
        }
        const offset = <usize>i * elementBytes;
        let key = cacheX4<T>(k0 + offset);
        a0 = madd(qa, key, a0); b0 = madd(qb, key, b0);
        key = cacheX4<T>(k1 + offset);
        a1 = madd(qa, key, a1); b1 = madd(qb, key, b1);
        key = cacheX4<T>(k2 + offset);
        a2 = madd(qa, key, a2); b2 = madd(qb, key, b2);
        key = cacheX4<T>(k3 + offset);
        a3 = madd(qa, key, a3); b3 = madd(qb, key, b3);
      }
      const s0 = f32x4.mul(horizontalSumF32x4(a0, a1, a2, a3), scale4);
      const s1 = f32x4.mul(horizontalSumF32x4(b0, b1, b2, b3), scale4);
      v128.store(scores0 + (<usize>p << 2), s0);
      v128.store(scores1 + (<usize>p << 2), s1);
      max0 = f32x4.max(max0, s0);
      max1 = f32x4.max(max1, s1);
    }
    max0 = f32x4.max(max0, f32x4.shuffle(max0, max0, 2, 3, 0, 1));
    max1 = f32x4.max(max1, f32x4.shuffle(max1, max1, 2, 3, 0, 1));
    maximum0 = max(f32x4.extract_lane(max0, 0), f32x4.extract_lane(max0, 1));
    maximum1 = max(f32x4.extract_lane(max1, 0), f32x4.extract_lane(max1, 1));
  }
  for (; p < positions; p++) {
    const k = keys + <usize>p * kvStride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    for (let i = 0; i < headDim; i += 4) {
      const key = cacheX4<T>(k + <usize>i * elementBytes);
      a0 = madd(f32x4.mul(v128.load(q0 + (<usize>i << 2)), unscale), key, a0);
      a1 = madd(f32x4.mul(v128.load(q1 + (<usize>i << 2)), unscale), key, a1);
    }
    const score0 = sumF32x4(a0) * scale, score1 = sumF32x4(a1) * scale;
    store<f32>(scores0 + (<usize>p << 2), score0);
    store<f32>(scores1 + (<usize>p << 2), score1);
    maximum0 = max(maximum0, score0);
    maximum1 = max(maximum1, score1);
  }
  store<f32>(maxima, maximum0);
  store<f32>(maxima, maximum1, 4);
}

/**
 * Out rows o0 and o0 + headDim = (Σ_p weight[p] × value p + (accumulate ? keep × the row's
 * earlier contents : 0)) × post, weights from scores0 / scores1. 16 dimensions of both heads at a
 * time: 8 sums in registers, each weight splat serves four.
 */
@inline function pairValues<T>(
  o0: usize, values: usize, kvStride: usize, headDim: i32, positions: i32, scores0: usize, scores1: usize,
  keep0: f32, keep1: f32, post0: f32, post1: f32, accumulate: bool,
): void {
  const elementBytes = <usize>sizeof<T>();
  const o1 = o0 + (<usize>headDim << 2);
  const k0 = f32x4.splat(keep0), k1 = f32x4.splat(keep1), inverse0 = f32x4.splat(post0), inverse1 = f32x4.splat(post1);
  let i = 0;
  for (; i + 16 <= headDim; i += 16) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let r0 = f32x4.splat(0), r1 = f32x4.splat(0), r2 = f32x4.splat(0), r3 = f32x4.splat(0);
    const column = values + <usize>i * elementBytes;
    for (let p = 0; p < positions; p++) {
      const v = column + <usize>p * kvStride;
      const w0 = f32x4.splat(load<f32>(scores0 + (<usize>p << 2))), w1 = f32x4.splat(load<f32>(scores1 + (<usize>p << 2)));
      const x0 = cacheX4<T>(v), x1 = cacheX4<T>(v + 4 * elementBytes);
      const x2 = cacheX4<T>(v + 8 * elementBytes), x3 = cacheX4<T>(v + 12 * elementBytes);
      s0 = madd(x0, w0, s0); s1 = madd(x1, w0, s1); s2 = madd(x2, w0, s2); s3 = madd(x3, w0, s3);
      r0 = madd(x0, w1, r0); r1 = madd(x1, w1, r1); r2 = madd(x2, w1, r2); r3 = madd(x3, w1, r3);
    }
    const at0 = o0 + (<usize>i << 2), at1 = o1 + (<usize>i << 2);
    if (accumulate) {
      s0 = madd(v128.load(at0), k0, s0); s1 = madd(v128.load(at0, 16), k0, s1);
      s2 = madd(v128.load(at0, 32), k0, s2); s3 = madd(v128.load(at0, 48), k0, s3);
      r0 = madd(v128.load(at1), k1, r0); r1 = madd(v128.load(at1, 16), k1, r1);
      r2 = madd(v128.load(at1, 32), k1, r2); r3 = madd(v128.load(at1, 48), k1, r3);
    }
    v128.store(at0, f32x4.mul(s0, inverse0));
    v128.store(at0, f32x4.mul(s1, inverse0), 16);
    v128.store(at0, f32x4.mul(s2, inverse0), 32);
    v128.store(at0, f32x4.mul(s3, inverse0), 48);
    v128.store(at1, f32x4.mul(r0, inverse1));
    v128.store(at1, f32x4.mul(r1, inverse1), 16);
    v128.store(at1, f32x4.mul(r2, inverse1), 32);
    v128.store(at1, f32x4.mul(r3, inverse1), 48);
  }
  for (; i < headDim; i += 4) {
    let s0 = f32x4.splat(0), r0 = f32x4.splat(0);
    const column = values + <usize>i * elementBytes;
    for (let p = 0; p < positions; p++) {
      const x = cacheX4<T>(column + <usize>p * kvStride);
      s0 = madd(x, f32x4.splat(load<f32>(scores0 + (<usize>p << 2))), s0);
      r0 = madd(x, f32x4.splat(load<f32>(scores1 + (<usize>p << 2))), r0);
    }
    const at0 = o0 + (<usize>i << 2), at1 = o1 + (<usize>i << 2);
    if (accumulate) {
      s0 = madd(v128.load(at0), k0, s0);
      r0 = madd(v128.load(at1), k1, r0);
    }
    v128.store(at0, f32x4.mul(s0, inverse0));
    v128.store(at1, f32x4.mul(r0, inverse1));
  }
}

/** 2^112: an f16's bits moved into f32 position read as the f16's value times 2^-112. */
const HALF_UNSCALE: f32 = reinterpret<f32>(0x77800000);

/**
 * Four consecutive cache elements at `ptr`: for T = f32 their values; for T = u16 (f16) their
 * values times 2^-112 (zero and subnormals included), in three ops instead of a full conversion:
 * the sign-extended half shifted by 13 puts sign, exponent and mantissa in place, the mask
 * clears the copies of the sign between them. The caller multiplies by cacheUnscale.
 */
@inline function cacheX4<T>(ptr: usize): v128 {
  if (sizeof<T>() == 2) return v128.and(i32x4.shl(v128.load16x4_s(ptr), 13), i32x4.splat(0x8fffe000));
  return v128.load(ptr);
}

/** What turns cacheX4's values into true values: 2^112 for f16, 1 for f32. */
@inline function cacheUnscale<T>(): f32 {
  return sizeof<T>() == 2 ? HALF_UNSCALE : 1;
}

/** One query row qr over positions 0..positions-1 of keys/values (as attendPair); out row o. */
function attendOne<T>(
  qr: usize, o: usize, keys: usize, values: usize, kvStride: usize, headDim: i32, positions: i32, scale: f32, scores: usize,
): void {
  const maximum = oneScores<T>(qr, keys, kvStride, headDim, positions, scale, scores);
  // softmax weights, with the f16 unscale folded in: v * 2^-112 * (weight * 2^112)
  const inverse = <f32>1 / softmaxWeights<T>(scores, positions, maximum);
  oneValues<T>(o, values, kvStride, headDim, positions, scores, 0, inverse, false);
}

/** scores[p] = qr · key p × scale for p < positions; returns their maximum. */
@inline function oneScores<T>(qr: usize, keys: usize, kvStride: usize, headDim: i32, positions: i32, scale: f32, scores: usize): f32 {
  const elementBytes = <usize>sizeof<T>();
  const unscale = f32x4.splat(cacheUnscale<T>());
  let maximum: f32 = -Infinity;
  for (let p = 0; p < positions; p++) {
    const k = keys + <usize>p * kvStride;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let i = 0;
    for (; i + 8 <= headDim; i += 8) {
      // Keys are unscaled before the product: q times a 2^-112-scaled key could be subnormal.
      let k0 = cacheX4<T>(k + <usize>i * elementBytes), k1 = cacheX4<T>(k + <usize>(i + 4) * elementBytes);
      if (sizeof<T>() == 2) {
        k0 = f32x4.mul(k0, unscale);
        k1 = f32x4.mul(k1, unscale);
      }
      a0 = f32x4.add(a0, f32x4.mul(v128.load(qr + (<usize>i << 2)), k0));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(qr + (<usize>i << 2), 16), k1));
    }
    if (i < headDim) a0 = f32x4.add(a0, f32x4.mul(v128.load(qr + (<usize>i << 2)), f32x4.mul(cacheX4<T>(k + <usize>i * elementBytes), unscale)));
    const score = sumF32x4(f32x4.add(a0, a1)) * scale;
    store<f32>(scores + (<usize>p << 2), score);
    maximum = max(maximum, score);
  }
  return maximum;
}

/** Out row o = (Σ_p weight[p] × value p + (accumulate ? keep × o's earlier contents : 0)) × post. */
@inline function oneValues<T>(
  o: usize, values: usize, kvStride: usize, headDim: i32, positions: i32, scores: usize, keep: f32, post: f32, accumulate: bool,
): void {
  const elementBytes = <usize>sizeof<T>();
  const k = f32x4.splat(keep), inverse = f32x4.splat(post);
  // 16 dimensions at a time (4 sums in registers)
  let i = 0;
  for (; i + 16 <= headDim; i += 16) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    const column = values + <usize>i * elementBytes;
    for (let p = 0; p < positions; p++) {
      const v = column + <usize>p * kvStride;
      const w = f32x4.splat(load<f32>(scores + (<usize>p << 2)));
      s0 = f32x4.add(s0, f32x4.mul(cacheX4<T>(v), w));
      s1 = f32x4.add(s1, f32x4.mul(cacheX4<T>(v + 4 * elementBytes), w));
      s2 = f32x4.add(s2, f32x4.mul(cacheX4<T>(v + 8 * elementBytes), w));
      s3 = f32x4.add(s3, f32x4.mul(cacheX4<T>(v + 12 * elementBytes), w));
    }
    const at = o + (<usize>i << 2);
    if (accumulate) {
      s0 = madd(v128.load(at), k, s0); s1 = madd(v128.load(at, 16), k, s1);
      s2 = madd(v128.load(at, 32), k, s2); s3 = madd(v128.load(at, 48), k, s3);
    }
    v128.store(at, f32x4.mul(s0, inverse));
    v128.store(at, f32x4.mul(s1, inverse), 16);
    v128.store(at, f32x4.mul(s2, inverse), 32);
    v128.store(at, f32x4.mul(s3, inverse), 48);
  }
  for (; i < headDim; i += 4) {
    let s0 = f32x4.splat(0);
    const column = values + <usize>i * elementBytes;
    for (let p = 0; p < positions; p++) {
      s0 = f32x4.add(s0, f32x4.mul(cacheX4<T>(column + <usize>p * kvStride), f32x4.splat(load<f32>(scores + (<usize>p << 2)))));
    }
    const at = o + (<usize>i << 2);
    if (accumulate) s0 = madd(v128.load(at), k, s0);
    v128.store(at, f32x4.mul(s0, inverse));
  }
}
