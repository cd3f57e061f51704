// Pooled embeddings for models whose GGUF names a pooling type (`<arch>.pooling_type`, e.g.
// Qwen3-Embedding: last-token pooling). Like llama.cpp, an embedding is the pooled hidden state
// after the final rmsnorm (llama.cpp's `result_norm`), not normalized: the API normalizes, after
// any `dimensions` truncation. Runs on the engine thread.

import { TesseraError } from '../../../shared/errors.js';
import type { GGUFMetadata } from '../gguf/types.js';
import type { ShardRunner } from '../model/shard-runner.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

export type PoolingType = 'mean' | 'cls' | 'last';

/** llama.cpp's enum llama_pooling_type; 0 (none) and 4 (rank) give no single text embedding. */
const GGUF_POOLING_TYPES: Readonly<Record<number, PoolingType>> = { 1: 'mean', 2: 'cls', 3: 'last' };

/** The KV cache embeddings run in; separate from generation's so a chat prefix can survive. */
export const EMBEDDING_SEQUENCE = 'embedding';

/** Texts one request may embed at once. */
export const MAX_EMBEDDING_INPUTS = 2048;

export interface EmbeddingResult {
  /** One pooled vector (length `dim`) per input, in order. */
  readonly vectors: Float32Array[];
  /** Tokens each input became (BOS/EOS included). */
  readonly tokenCounts: number[];
}

/** The pooling the file asks for, or undefined for a model without one (a chat model). */
export function poolingTypeOf(metadata: GGUFMetadata): PoolingType | undefined {
  const architecture = metadata.get('general.architecture');
  const value = metadata.get(`${String(architecture)}.pooling_type`);
  return typeof value === 'number' ? GGUF_POOLING_TYPES[value] : undefined;
}

export class Embedder {
  private readonly appendEos: boolean;
  private gain: Float32Array | undefined;

  constructor(
    private readonly runner: ShardRunner,
    private readonly tokenizer: Tokenizer,
    readonly pooling: PoolingType,
    metadata: GGUFMetadata,
  ) {
    // Qwen3-Embedding and others are trained with EOS at the end; their GGUF says so.
    this.appendEos = metadata.get('tokenizer.ggml.add_eos_token') === true;
  }

  /** Embeds each input (text, or token ids used as they are). */
  embed(inputs: readonly (string | readonly number[])[]): EmbeddingResult {
    const vectors: Float32Array[] = [];
    const tokenCounts: number[] = [];
    for (const input of inputs) {
      const tokens = this.tokensOf(input);
      vectors.push(this.embedTokens(tokens));
      tokenCounts.push(tokens.length);
    }
    return { vectors, tokenCounts };
  }

  private tokensOf(input: string | readonly number[]): Int32Array {
    if (typeof input !== 'string') return Int32Array.from(input);
    const tokens = this.tokenizer.encode(input);
    const eos = this.tokenizer.eosId;
    if (this.appendEos && eos !== undefined && tokens.at(-1) !== eos) tokens.push(eos);
    return Int32Array.from(tokens);
  }

  private embedTokens(tokens: Int32Array): Float32Array {
    if (tokens.length === 0) throw new TesseraError('REQUEST_INVALID', 'an embedding input has no tokens');
    if (tokens.length > this.runner.contextLength) {
      throw new TesseraError('CONTEXT_OVERFLOW', `an input has ${tokens.length} tokens, more than the context of ${this.runner.contextLength}`);
    }
    const { shard, state } = this.runner;
    const dim = shard.config.dim;
    const pooled = new Float32Array(dim);
    // One forward call per run-state batch leaves exactly that batch's hidden states in state.x
    // (the head's logits for its last row are computed too and ignored).
    for (let start = 0; start < tokens.length; start += state.maxBatchTokens) {
      const chunk = tokens.subarray(start, Math.min(tokens.length, start + state.maxBatchTokens));
      this.runner.forward(EMBEDDING_SEQUENCE, chunk, start);
      const rows = this.pooledRows(start, chunk.length, tokens.length);
      for (const row of rows) {
        const normed = this.finalNorm(shard.backend.read(state.x, row * dim, dim));
        for (let i = 0; i < dim; i++) pooled[i]! += normed[i]!;
      }
    }
    if (this.pooling === 'mean') for (let i = 0; i < dim; i++) pooled[i]! /= tokens.length;
    return pooled;
  }

  /** Rows of this batch (0-based within it) that the pooling reads. */
  private pooledRows(start: number, length: number, total: number): number[] {
    switch (this.pooling) {
      case 'mean':
        return Array.from({ length }, (_, row) => row);
      case 'cls':
        return start === 0 ? [0] : [];
      case 'last':
        return start + length === total ? [length - 1] : [];
      default: {
        const unknown: never = this.pooling;
        throw new TesseraError('INTERNAL', `unknown pooling ${String(unknown)}`);
      }
    }
  }

  /** The model's final rmsnorm (output_norm) of one hidden state. */
  private finalNorm(hidden: Float32Array): Float32Array {
    const { shard } = this.runner;
    this.gain ??= shard.backend.read(shard.weights.output_norm!);
    let sumSquares = 0;
    for (const value of hidden) sumSquares += value * value;
    const scale = 1 / Math.sqrt(sumSquares / hidden.length + shard.config.rms_eps);
    const out = new Float32Array(hidden.length);
    for (let i = 0; i < hidden.length; i++) out[i] = hidden[i]! * scale * this.gain[i]!;
    return out;
  }
}
