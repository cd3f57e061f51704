// The seam between the model code and the compute that runs it. The forward pass
// (`model/`) calls only these ops; `kernels/` implements them in WASM SIMD over a pool of
// worker threads, and `model/reference-backend.ts` implements them in plain scalar
// TypeScript as the specification tests compare against. A WebGPU backend can be added
// beside them without touching the model.
//
// Conventions:
// - Activations are f32 matrices stored row-major, one row per token: `[n_tokens, width]`.
// - A weight matrix has `rows` output features and `cols` input features (GGUF dims are
//   [cols, rows]); `matmul` computes out[t, r] = sum_c W[r, c] * x[t, c].
// - Offsets and lengths are in elements (f32 values), never bytes.
// - Every op is synchronous: when it returns, `out` holds the result. Calls may block the
//   calling thread (Atomics.wait), so the engine calls them from its own worker thread.
// - Ops allocate nothing; buffers come from `alloc` once, when a model is loaded.

import type { GGMLType } from './gguf/types.js';

/** An f32 buffer owned by a backend (in WASM memory for the WASM backend). */
export interface Activation {
  readonly length: number;
}

/** A weight matrix in its GGUF encoding (possibly repacked by the backend at upload). */
export interface Weight {
  readonly type: GGMLType;
  readonly rows: number;
  readonly cols: number;
}

/** Writes one weight's GGUF-encoded rows; see `ComputeBackend.beginWeight`. */
export interface WeightWriter {
  readonly weight: Weight;
  /** `data` holds whole rows firstRow, firstRow + 1, … in GGUF encoding; it may be reused afterwards. */
  writeRows(firstRow: number, data: Uint8Array): void;
  /**
   * Optional: the backend's own memory for rows firstRow.. (at least one whole row, at most
   * `count`), for a loader to read the file straight into and then pass to writeRows, which
   * copies nothing more. Valid until the backend's next call other than writeRows of this view.
   */
  rowsBuffer?(firstRow: number, count: number): Uint8Array;
}

export type RopeStyle =
  /** Rotates pairs (x[2i], x[2i+1]): llama.cpp's LLAMA_ROPE_TYPE_NORM (llama). */
  | 'normal'
  /** Rotates pairs (x[i], x[i + d/2]): LLAMA_ROPE_TYPE_NEOX (qwen2, qwen3). */
  | 'neox';

export interface AttentionShape {
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  /** Position in the sequence of the first of the `nTokens` query rows. */
  readonly startPosition: number;
  readonly nTokens: number;
  /** 1 / sqrt(headDim) unless the model says otherwise. */
  readonly scale: number;
}

export interface ComputeBackend {
  readonly name: string;
  /** Worker threads the backend splits work over (1 for the reference backend). */
  readonly threads: number;

  /** A zeroed f32 buffer of `length` elements. */
  alloc(length: number): Activation;
  /** Copies `data` into `target` starting at element `offset`. */
  write(target: Activation, data: Float32Array, offset?: number): void;
  /**
   * Copies `length` elements starting at `offset` out of `source`: into `target` when given (of
   * exactly `length` elements: a caller reading every token reuses one), else into a new array.
   */
  read(source: Activation, offset?: number, length?: number, target?: Float32Array): Float32Array;
  /** dst[dstOffset + i] = src[srcOffset + i] for i < length. */
  copy(dst: Activation, dstOffset: number, src: Activation, srcOffset: number, length: number): void;

  /** Takes a weight matrix `rows x cols` in GGUF encoding. `data` may be discarded afterwards. */
  uploadWeight(type: GGMLType, rows: number, cols: number, data: Uint8Array): Weight;
  /**
   * Optional: a weight filled row range by row range, so a loader can stream a tensor from the
   * file in small pieces instead of holding all of it. The weight is usable once every row was written.
   */
  beginWeight?(type: GGMLType, rows: number, cols: number): WeightWriter;
  /**
   * Optional: an f16 buffer of `length` elements for KV caches (half of f32's memory, as llama.cpp
   * keeps them). `storeKv` and `copy` from an f32 buffer into it round to f16; `attention` reads it
   * as keys and values; `read` returns f32. Backends without it keep caches in f32.
   */
  allocHalf?(length: number): Activation;
  /** Frees everything this backend allocated; the backend cannot be used afterwards. */
  dispose(): void;

  /** out[t, :] = row `tokens[t]` of `table` (an embedding matrix, rows = vocabulary), dequantized. */
  embed(out: Activation, table: Weight, tokens: Int32Array): void;
  /** out[t, r] = sum_c W[r, c] * x[t, c]  for t < nTokens. out: [nTokens, rows], x: [nTokens, cols]. */
  matmul(out: Activation, weight: Weight, x: Activation, nTokens: number): void;
  /**
   * Optional: several matmuls that read the same x (q/k/v, gate/up) as one op, so x is prepared
   * once and one dispatch covers every weight. outs[i]: [nTokens, weights[i].rows]; the weights
   * share `cols`. Same result as calling `matmul` for each; the model uses it when present.
   */
  matmulShared?(outs: readonly Activation[], weights: readonly Weight[], x: Activation, nTokens: number): void;
  /** out[t, :] = x[t, :] / rms(x[t, :]) * gain  for each row of width `gain.length`. In place allowed. */
  rmsnorm(out: Activation, x: Activation, gain: Activation, nRows: number, eps: number): void;
  /** x[t, :] += bias  for each of `nRows` rows of width `bias.length`. */
  addBias(x: Activation, bias: Activation, nRows: number): void;
  /**
   * Rotary position embedding in place over x: [nTokens, nHeads * headDim]; token t is at
   * position startPosition + t. Frequencies theta^(-2i/rotaryDim) for i < rotaryDim/2, each
   * divided by `factors[i]` when given (Llama 3.x `rope_freqs.weight`: headDim/2 values).
   */
  rope(
    x: Activation,
    nTokens: number,
    nHeads: number,
    headDim: number,
    startPosition: number,
    theta: number,
    style: RopeStyle,
    factors?: Activation,
  ): void;
  /**
   * Stores new keys or values: src [nTokens, nKvHeads * headDim] (f32) goes to positions
   * startPosition.. of `cache`, a KV cache laid out [nKvHeads, capacity, headDim] with capacity =
   * cache.length / (nKvHeads * headDim): each kv head's positions back to back, so attention reads
   * one head's keys as one stream. An f16 cache (allocHalf) rounds to f16.
   */
  storeKv(cache: Activation, src: Activation, startPosition: number, nTokens: number, nKvHeads: number, headDim: number): void;
  /**
   * Causal grouped-query attention. q: [nTokens, nHeads * headDim]; keys/values: caches laid out
   * as storeKv writes them, already holding positions < startPosition + nTokens.
   * out: [nTokens, nHeads * headDim]. Query head h reads kv head floor(h * nKvHeads / nHeads).
   */
  attention(out: Activation, q: Activation, keys: Activation, values: Activation, shape: AttentionShape): void;
  /** out[i] = silu(gate[i]) * up[i]  for i < length. */
  swiglu(out: Activation, gate: Activation, up: Activation, length: number): void;
  /** out[i] = a[i] + b[i]  for i < length. In place allowed. */
  add(out: Activation, a: Activation, b: Activation, length: number): void;
}
