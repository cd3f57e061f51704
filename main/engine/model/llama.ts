// One forward pass of the llama family (llama, qwen2 with q/k/v biases, qwen3 with per-head
// q/k rmsnorm) over a contiguous layer range [start, end) of a GGUF model. Read it top to
// bottom: the weights of the range, the preallocated run state and KV cache, `forward()`, and
// last the loader. All arithmetic goes through a `ComputeBackend`.

import { TesseraError } from '../../../shared/errors.js';
import type { Activation, ComputeBackend, Weight } from '../backend.js';
import { dequantize, isSupportedType, tensorByteLength } from '../gguf/quant.js';
import { GGMLType, type GGUFHeader, type GGUFTensorInfo } from '../gguf/types.js';
import { readConfig, type Config } from './config.js';

export type { Config } from './config.js';

/**
 * Tokens one `forward` step computes at once; a longer prompt is processed in chunks of this size.
 * 128 rather than 64: a 512-token prefill of the 0.6B models ran 6-15 % faster (each weight row
 * and each block of attention keys serves twice the tokens) for 4 MiB more run state.
 */
export const DEFAULT_MAX_BATCH_TOKENS = 128;

// ----------------------------------------------------------------------------
// Weights of one shard

export interface LayerWeights {
  readonly attn_norm: Activation; // (dim)
  readonly wq: Weight; // (n_heads * head_dim, dim)
  readonly wk: Weight; // (n_kv_heads * head_dim, dim)
  readonly wv: Weight; // (n_kv_heads * head_dim, dim)
  readonly bq?: Activation; // (n_heads * head_dim)      qwen2 only
  readonly bk?: Activation; // (n_kv_heads * head_dim)   qwen2 only
  readonly bv?: Activation; // (n_kv_heads * head_dim)   qwen2 only
  readonly q_norm?: Activation; // (head_dim)             qwen3 only
  readonly k_norm?: Activation; // (head_dim)             qwen3 only
  readonly wo: Weight; // (dim, n_heads * head_dim)
  readonly ffn_norm: Activation; // (dim)
  readonly w_gate: Weight; // (hidden_dim, dim)
  readonly w_up: Weight; // (hidden_dim, dim)
  readonly w_down: Weight; // (dim, hidden_dim)
}

export interface ShardWeights {
  readonly token_embd?: Weight; // (vocab_size, dim)    first shard only
  readonly rope_freqs?: Activation; // (head_dim / 2)   Llama 3.x only: each rope pair's frequency divisor
  readonly layers: readonly LayerWeights[]; // (end - start) entries, layer `start` first
  readonly output_norm?: Activation; // (dim)           last shard only
  readonly output?: Weight; // (vocab_size, dim)        last shard only; token_embd when tied
}

/** A layer range of a model, its weights uploaded to a backend. */
export interface LlamaShard {
  readonly config: Config;
  /** First layer this shard runs. */
  readonly start: number;
  /** One past the last layer this shard runs. */
  readonly end: number;
  readonly isFirst: boolean;
  readonly isLast: boolean;
  readonly weights: ShardWeights;
  readonly backend: ComputeBackend;
}

// ----------------------------------------------------------------------------
// Run state: every buffer `forward` touches, allocated once

/** f16 halves the cache (llama.cpp's default); f32 where the backend has no f16 buffers. */
export type KvCachePrecision = 'f16' | 'f32';

export interface KvCache {
  /** Positions the cache can hold. */
  readonly contextLength: number;
  readonly precision: KvCachePrecision;
  readonly keys: readonly Activation[]; // per layer of the shard: (n_kv_heads, contextLength, head_dim), see storeKv
  readonly values: readonly Activation[]; // per layer of the shard: (n_kv_heads, contextLength, head_dim)
}

export interface RunState {
  readonly maxBatchTokens: number;
  readonly x: Activation; // (batch, dim)         residual stream
  readonly xb: Activation; // (batch, dim)        normed input to attention / ffn
  readonly q: Activation; // (batch, n_heads * head_dim)
  readonly k: Activation; // (batch, n_kv_heads * head_dim)
  readonly v: Activation; // (batch, n_kv_heads * head_dim)
  readonly att: Activation; // (batch, n_heads * head_dim)  attention output before wo
  readonly proj: Activation; // (batch, dim)      output of wo / w_down, added to x
  readonly gate: Activation; // (batch, hidden_dim)
  readonly up: Activation; // (batch, hidden_dim)
  readonly last: Activation; // (1, dim)          one position's hidden state for the head
  readonly logits: Activation; // (1, vocab_size) last shard only (empty otherwise)
}

export function createKvCache(shard: LlamaShard, contextLength: number, precision: KvCachePrecision = 'f16'): KvCache {
  const kvDim = shard.config.n_kv_heads * shard.config.head_dim;
  const layers = shard.end - shard.start;
  const b = shard.backend;
  const half = precision === 'f16' && b.allocHalf !== undefined;
  const alloc = (): Activation => (half ? b.allocHalf!(contextLength * kvDim) : b.alloc(contextLength * kvDim));
  return {
    contextLength,
    precision: half ? 'f16' : 'f32',
    keys: Array.from({ length: layers }, alloc),
    values: Array.from({ length: layers }, alloc),
  };
}

export function createRunState(shard: LlamaShard, maxBatchTokens = DEFAULT_MAX_BATCH_TOKENS): RunState {
  const { dim, hidden_dim, n_heads, n_kv_heads, head_dim, vocab_size } = shard.config;
  const alloc = (width: number): Activation => shard.backend.alloc(maxBatchTokens * width);
  return {
    maxBatchTokens,
    x: alloc(dim),
    xb: alloc(dim),
    q: alloc(n_heads * head_dim),
    k: alloc(n_kv_heads * head_dim),
    v: alloc(n_kv_heads * head_dim),
    att: alloc(n_heads * head_dim),
    proj: alloc(dim),
    gate: alloc(hidden_dim),
    up: alloc(hidden_dim),
    last: shard.backend.alloc(dim),
    logits: shard.backend.alloc(shard.isLast ? vocab_size : 0),
  };
}

// ----------------------------------------------------------------------------
// Forward pass

/**
 * What enters a shard: token ids for the first shard, or hidden states (n_tokens, dim) coming
 * out of the previous shard.
 */
export type ShardInput = Int32Array | Float32Array;

export type ShardOutput =
  /** Last shard: logits (rows, vocab_size); one row (the last position) unless all were asked for. */
  | { readonly kind: 'logits'; readonly rows: number; readonly data: Float32Array }
  /** Other shards: the hidden states (n_tokens, dim) for the next shard. */
  | { readonly kind: 'hidden'; readonly rows: number; readonly data: Float32Array };

export interface ForwardOptions {
  /** Return logits for every input position rather than only the last (last shard only). */
  readonly allLogits?: boolean;
  /**
   * Write the output into this array (of exactly rows x width elements) rather than a new one:
   * a decode loop reuses one for every token, where a new ~600 KB array of logits a token (Qwen3)
   * is garbage V8 collects late and the allocator keeps its high-water mark of.
   */
  readonly output?: Float32Array;
}

/**
 * Runs tokens at positions startPosition, startPosition + 1, … through the shard's layers,
 * writing their keys and values into `cache`. Positions below startPosition must already be
 * in the cache.
 */
export function forward(
  shard: LlamaShard,
  state: RunState,
  cache: KvCache,
  input: ShardInput,
  startPosition: number,
  options: ForwardOptions = {},
): ShardOutput {
  const { dim, vocab_size } = shard.config;
  const nTokens = checkInput(shard, input);
  if (!Number.isInteger(startPosition) || startPosition < 0 || startPosition + nTokens > cache.contextLength) {
    throw new TesseraError(
      'CONTEXT_OVERFLOW',
      `positions ${startPosition}..${startPosition + nTokens - 1} do not fit the context of ${cache.contextLength}`,
    );
  }
  const outputRows = shard.isLast ? (options.allLogits ? nTokens : 1) : nTokens;
  const outputWidth = shard.isLast ? vocab_size : dim;
  const output = options.output ?? new Float32Array(outputRows * outputWidth);
  if (output.length !== outputRows * outputWidth) {
    throw new TesseraError('REQUEST_INVALID', `the output needs ${outputRows} x ${outputWidth} elements, not ${output.length}`);
  }
  // A long prompt goes through in chunks that fit the run state; each chunk's keys and values
  // are in the cache before the next chunk attends to them, so chunking changes nothing.
  for (let done = 0; done < nTokens; done += state.maxBatchTokens) {
    const n = Math.min(state.maxBatchTokens, nTokens - done);
    const chunk = input.subarray(done * (input instanceof Int32Array ? 1 : dim), (done + n) * (input instanceof Int32Array ? 1 : dim));
    forwardChunk(shard, state, cache, chunk, n, startPosition + done);
    if (!shard.isLast) {
      shard.backend.read(state.x, 0, n * dim, output.subarray(done * dim, (done + n) * dim));
    } else if (options.allLogits) {
      for (let t = 0; t < n; t++) classify(shard, state, t, output.subarray((done + t) * vocab_size, (done + t + 1) * vocab_size));
    } else if (done + n === nTokens) {
      classify(shard, state, n - 1, output);
    }
  }
  return { kind: shard.isLast ? 'logits' : 'hidden', rows: outputRows, data: output };
}

/** The transformer blocks over n tokens (n <= maxBatchTokens); leaves the result in state.x. */
function forwardChunk(
  shard: LlamaShard,
  s: RunState,
  cache: KvCache,
  input: ShardInput,
  n: number,
  position: number,
): void {
  const b = shard.backend;
  const { dim, hidden_dim, n_heads, n_kv_heads, head_dim, rms_eps, rope_theta, rope_style } = shard.config;

  // token embeddings (first shard) or the previous shard's hidden states
  if (input instanceof Int32Array) b.embed(s.x, shard.weights.token_embd!, input);
  else b.write(s.x, input);

  for (let l = 0; l < shard.weights.layers.length; l++) {
    const w = shard.weights.layers[l]!;

    // attention rmsnorm
    b.rmsnorm(s.xb, s.x, w.attn_norm, n, rms_eps);

    // q, k, v projections (+ qwen2 biases)
    matmuls(b, [s.q, s.k, s.v], [w.wq, w.wk, w.wv], s.xb, n);
    if (w.bq && w.bk && w.bv) {
      b.addBias(s.q, w.bq, n);
      b.addBias(s.k, w.bk, n);
      b.addBias(s.v, w.bv, n);
    }

    // qwen3: rmsnorm of each head of q and k
    if (w.q_norm && w.k_norm) {
      b.rmsnorm(s.q, s.q, w.q_norm, n * n_heads, rms_eps);
      b.rmsnorm(s.k, s.k, w.k_norm, n * n_kv_heads, rms_eps);
    }

    // rotary position embedding of q and k
    b.rope(s.q, n, n_heads, head_dim, position, rope_theta, rope_style, shard.weights.rope_freqs);
    b.rope(s.k, n, n_kv_heads, head_dim, position, rope_theta, rope_style, shard.weights.rope_freqs);

    // store this chunk's keys and values in the cache at its positions
    b.storeKv(cache.keys[l]!, s.k, position, n, n_kv_heads, head_dim);
    b.storeKv(cache.values[l]!, s.v, position, n, n_kv_heads, head_dim);

    // causal grouped-query attention over the cache
    b.attention(s.att, s.q, cache.keys[l]!, cache.values[l]!, {
      nHeads: n_heads,
      nKvHeads: n_kv_heads,
      headDim: head_dim,
      startPosition: position,
      nTokens: n,
      scale: 1 / Math.sqrt(head_dim),
    });

    // output projection and residual
    b.matmul(s.proj, w.wo, s.att, n);
    b.add(s.x, s.x, s.proj, n * dim);

    // ffn rmsnorm
    b.rmsnorm(s.xb, s.x, w.ffn_norm, n, rms_eps);

    // w_down(silu(w_gate(x)) * w_up(x)) and residual
    matmuls(b, [s.gate, s.up], [w.w_gate, w.w_up], s.xb, n);
    b.swiglu(s.gate, s.gate, s.up, n * hidden_dim);
    b.matmul(s.proj, w.w_down, s.gate, n);
    b.add(s.x, s.x, s.proj, n * dim);
  }
}

/** outs[i] = weights[i] · x: one fused op where the backend has it, else one matmul each. */
function matmuls(b: ComputeBackend, outs: readonly Activation[], weights: readonly Weight[], x: Activation, n: number): void {
  if (b.matmulShared) b.matmulShared(outs, weights, x, n);
  else for (let i = 0; i < weights.length; i++) b.matmul(outs[i]!, weights[i]!, x, n);
}

/** Final rmsnorm and the output head for row `t` of state.x: the logits of that position, into `target`. */
function classify(shard: LlamaShard, s: RunState, t: number, target: Float32Array): void {
  const b = shard.backend;
  const { dim, rms_eps } = shard.config;
  b.copy(s.last, 0, s.x, t * dim, dim);
  b.rmsnorm(s.last, s.last, shard.weights.output_norm!, 1, rms_eps);
  b.matmul(s.logits, shard.weights.output!, s.last, 1);
  b.read(s.logits, 0, s.logits.length, target);
}

function checkInput(shard: LlamaShard, input: ShardInput): number {
  if (shard.isFirst) {
    if (!(input instanceof Int32Array)) {
      throw new TesseraError('REQUEST_INVALID', 'the first shard takes token ids (Int32Array)');
    }
    for (const token of input) {
      if (token < 0 || token >= shard.config.vocab_size) {
        throw new TesseraError('REQUEST_INVALID', `token ${token} is outside the vocabulary of ${shard.config.vocab_size}`);
      }
    }
    if (input.length === 0) throw new TesseraError('REQUEST_INVALID', 'no tokens to run');
    return input.length;
  }
  if (!(input instanceof Float32Array) || input.length === 0 || input.length % shard.config.dim !== 0) {
    throw new TesseraError(
      'REQUEST_INVALID',
      `shard ${shard.start}:${shard.end} takes hidden states, a non-empty Float32Array of rows of ${shard.config.dim}`,
    );
  }
  return input.length / shard.config.dim;
}

// ----------------------------------------------------------------------------
// Loading

/** Reads one tensor's bytes (a file, or memory in tests). */
export type TensorReader = (tensor: GGUFTensorInfo) => Uint8Array | Promise<Uint8Array>;
/** Fills `target` with the tensor's bytes from `byteOffset` on (relative to the tensor's start). */
export type TensorRangeReader = (tensor: GGUFTensorInfo, byteOffset: number, target: Uint8Array) => Promise<void>;

/** Bytes of a matrix read from the file at once when the backend takes weights in pieces. */
export const LOAD_PIECE_BYTES = 8 * 1024 * 1024;

export interface LoadShardOptions {
  readonly header: GGUFHeader;
  readonly readTensor: TensorReader;
  /**
   * Optional: reads part of a tensor. With it (and a backend that has `beginWeight`) matrices
   * stream into the backend in LOAD_PIECE_BYTES pieces, so no whole tensor is held in JS memory
   * (none of it at all where the backend lends memory to read into: `WeightWriter.rowsBuffer`).
   */
  readonly readTensorRange?: TensorRangeReader;
  /** Bytes per piece when streaming (default LOAD_PIECE_BYTES; tests pass less). */
  readonly pieceBytes?: number;
  readonly backend: ComputeBackend;
  /** [start, end) of the layers to run; the whole model when absent. */
  readonly layers?: readonly [number, number];
}

/**
 * Checks the whole shard (architecture, layer range, every tensor's presence, type and shape)
 * before reading any weight, then reads only the tensors of the range.
 */
export async function loadShard(options: LoadShardOptions): Promise<LlamaShard> {
  const { header, readTensor, backend } = options;
  const config = readConfig(header);
  const [start, end] = options.layers ?? [0, config.n_layers];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > config.n_layers || start >= end) {
    throw new TesseraError(
      'LAYER_RANGE_INVALID',
      `layers ${start}:${end} are not a non-empty range within the model's ${config.n_layers} layers`,
    );
  }
  const isFirst = start === 0;
  const isLast = end === config.n_layers;
  const plan = planTensors(header, config, start, end, isFirst, isLast);

  const readRange = options.readTensorRange;
  // One buffer for every piece of every matrix (allocated on first use), unless the backend lends
  // its own memory to read into: then the weights never pass through JS memory at all.
  let piece: Uint8Array | undefined;
  const matrix = async (name: string): Promise<Weight> => {
    const info = plan.get(name)!;
    const rows = info.dims[1] ?? 1;
    const cols = info.dims[0]!;
    if (readRange === undefined || backend.beginWeight === undefined) {
      return backend.uploadWeight(info.type, rows, cols, await readTensor(info));
    }
    const writer = backend.beginWeight(info.type, rows, cols);
    const rowBytes = tensorByteLength(info.type, cols);
    const pieceBytes = options.pieceBytes ?? LOAD_PIECE_BYTES;
    const rowsPerPiece = Math.max(1, Math.floor(pieceBytes / rowBytes));
    for (let row = 0; row < rows; ) {
      const count = Math.min(rowsPerPiece, rows - row);
      let part = writer.rowsBuffer?.(row, count);
      if (part === undefined) {
        if (piece === undefined || piece.length < rowsPerPiece * rowBytes) piece = new Uint8Array(rowsPerPiece * rowBytes);
        part = piece.subarray(0, count * rowBytes);
      }
      await readRange(info, row * rowBytes, part);
      writer.writeRows(row, part);
      row += part.length / rowBytes;
    }
    return writer.weight;
  };
  const values = async (name: string): Promise<Float32Array> => {
    const info = plan.get(name)!;
    return dequantize(info.type, await readTensor(info), info.dims[0]!);
  };
  const vector = async (name: string): Promise<Activation> => {
    const data = await values(name);
    const activation = backend.alloc(data.length);
    backend.write(activation, data);
    return activation;
  };
  const optionalVector = async (name: string): Promise<Activation | undefined> =>
    plan.has(name) ? vector(name) : undefined;

  // Llama 3.1+ rope frequency factors; a file whose factors are all 1 needs none.
  const ropeFactors = plan.has('rope_freqs.weight') ? await values('rope_freqs.weight') : undefined;
  const rope_freqs = ropeFactors?.some((factor) => factor !== 1) ? backend.alloc(ropeFactors.length) : undefined;
  if (rope_freqs !== undefined) backend.write(rope_freqs, ropeFactors!);

  const layers: LayerWeights[] = [];
  for (let l = start; l < end; l++) {
    const p = `blk.${l}.`;
    layers.push({
      attn_norm: await vector(`${p}attn_norm.weight`),
      wq: await matrix(`${p}attn_q.weight`),
      wk: await matrix(`${p}attn_k.weight`),
      wv: await matrix(`${p}attn_v.weight`),
      bq: await optionalVector(`${p}attn_q.bias`),
      bk: await optionalVector(`${p}attn_k.bias`),
      bv: await optionalVector(`${p}attn_v.bias`),
      q_norm: await optionalVector(`${p}attn_q_norm.weight`),
      k_norm: await optionalVector(`${p}attn_k_norm.weight`),
      wo: await matrix(`${p}attn_output.weight`),
      ffn_norm: await vector(`${p}ffn_norm.weight`),
      w_gate: await matrix(`${p}ffn_gate.weight`),
      w_up: await matrix(`${p}ffn_up.weight`),
      w_down: await matrix(`${p}ffn_down.weight`),
    });
  }
  const token_embd = plan.has('token_embd.weight') ? await matrix('token_embd.weight') : undefined;
  const weights: ShardWeights = {
    token_embd,
    rope_freqs,
    layers,
    output_norm: isLast ? await vector('output_norm.weight') : undefined,
    // Tied embeddings: without output.weight the head is the embedding table.
    output: !isLast ? undefined : plan.has('output.weight') ? await matrix('output.weight') : token_embd,
  };
  return { config, start, end, isFirst, isLast, weights, backend };
}

/** Every tensor the shard needs, by name, after checking presence, type and shape. */
function planTensors(
  header: GGUFHeader,
  config: Config,
  start: number,
  end: number,
  isFirst: boolean,
  isLast: boolean,
): Map<string, GGUFTensorInfo> {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  const { dim, hidden_dim, n_heads, n_kv_heads, head_dim, vocab_size } = config;
  const qDim = n_heads * head_dim;
  const kvDim = n_kv_heads * head_dim;
  const plan = new Map<string, GGUFTensorInfo>();
  // Expected ggml dims: [cols, rows] for matrices, [width] for vectors.
  const need = (name: string, dims: readonly number[], required = true): void => {
    const info = byName.get(name);
    if (!info) {
      if (required) throw new TesseraError('MODEL_MISSING_TENSOR', `tensor ${name} is missing from the file`);
      return;
    }
    if (!isSupportedType(info.type)) {
      throw new TesseraError(
        'MODEL_UNSUPPORTED_TENSOR_TYPE',
        `tensor ${name} has ggml type ${GGMLType[info.type] ?? info.type}, which is not supported`,
      );
    }
    const actual = info.dims.length === 1 ? [info.dims[0]!] : info.dims;
    if (actual.length !== dims.length || actual.some((d, i) => d !== dims[i])) {
      throw new TesseraError('GGUF_INVALID', `tensor ${name} has shape [${info.dims.join(', ')}], expected [${dims.join(', ')}]`);
    }
    plan.set(name, info);
  };
  need('rope_freqs.weight', [head_dim / 2], false);
  const embedNeeded = isFirst || (isLast && !byName.has('output.weight'));
  if (embedNeeded) need('token_embd.weight', [dim, vocab_size]);
  for (let l = start; l < end; l++) {
    const p = `blk.${l}.`;
    need(`${p}attn_norm.weight`, [dim]);
    need(`${p}attn_q.weight`, [dim, qDim]);
    need(`${p}attn_k.weight`, [dim, kvDim]);
    need(`${p}attn_v.weight`, [dim, kvDim]);
    need(`${p}attn_q.bias`, [qDim], config.qkv_bias);
    need(`${p}attn_k.bias`, [kvDim], config.qkv_bias);
    need(`${p}attn_v.bias`, [kvDim], config.qkv_bias);
    need(`${p}attn_q_norm.weight`, [head_dim], config.qk_norm);
    need(`${p}attn_k_norm.weight`, [head_dim], config.qk_norm);
    need(`${p}attn_output.weight`, [qDim, dim]);
    need(`${p}ffn_norm.weight`, [dim]);
    need(`${p}ffn_gate.weight`, [dim, hidden_dim]);
    need(`${p}ffn_up.weight`, [dim, hidden_dim]);
    need(`${p}ffn_down.weight`, [hidden_dim, dim]);
  }
  if (isLast) {
    need('output_norm.weight', [dim]);
    need('output.weight', [dim, vocab_size], false);
  }
  if ((isFirst || isLast) && vocab_size <= 0) {
    throw new TesseraError('GGUF_INVALID', 'the vocabulary size is unknown');
  }
  return plan;
}
