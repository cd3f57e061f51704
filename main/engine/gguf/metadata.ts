// Typed access to GGUF metadata, and the hyperparameters of a llama-family model read into
// one plain object. A missing or mistyped key is a GGUF_INVALID error naming the key.

import { TesseraError } from '../../../shared/errors.js';
import type { GGUFHeader, GGUFMetadata, GGUFValue } from './types.js';

function invalid(key: string, expected: string, value: GGUFValue | undefined): TesseraError {
  const found = value === undefined ? 'missing' : `a ${describe(value)}`;
  return new TesseraError('GGUF_INVALID', `metadata ${key} must be ${expected}, it is ${found}`);
}

function describe(value: GGUFValue): string {
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

export function getNumber(metadata: GGUFMetadata, key: string): number {
  const value = metadata.get(key);
  if (typeof value !== 'number') throw invalid(key, 'a number', value);
  return value;
}

export function getOptionalNumber(metadata: GGUFMetadata, key: string): number | undefined {
  return metadata.has(key) ? getNumber(metadata, key) : undefined;
}

/** A non-negative integer (counts, lengths, token ids). */
export function getCount(metadata: GGUFMetadata, key: string): number {
  const value = getNumber(metadata, key);
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(key, 'a non-negative integer', value);
  return value;
}

export function getOptionalCount(metadata: GGUFMetadata, key: string): number | undefined {
  return metadata.has(key) ? getCount(metadata, key) : undefined;
}

export function getString(metadata: GGUFMetadata, key: string): string {
  const value = metadata.get(key);
  if (typeof value !== 'string') throw invalid(key, 'a string', value);
  return value;
}

export function getOptionalString(metadata: GGUFMetadata, key: string): string | undefined {
  return metadata.has(key) ? getString(metadata, key) : undefined;
}

export function getBoolean(metadata: GGUFMetadata, key: string): boolean {
  const value = metadata.get(key);
  if (typeof value !== 'boolean') throw invalid(key, 'a boolean', value);
  return value;
}

export function getStringArray(metadata: GGUFMetadata, key: string): readonly string[] {
  const value = metadata.get(key);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(key, 'an array of strings', value);
  }
  return value as readonly string[];
}

/** Hyperparameters of a llama-family transformer (llama, qwen2, qwen3), named after their GGUF keys. */
export interface ArchitectureConfig {
  /** `general.architecture`, e.g. `qwen3`. */
  readonly architecture: string;
  readonly blockCount: number;
  readonly contextLength: number;
  readonly embeddingLength: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  /** Defaults to headCount (no grouped-query attention). */
  readonly headCountKv: number;
  /** Per-head query/key width; defaults to embeddingLength / headCount. */
  readonly keyLength: number;
  /** Per-head value width; defaults to embeddingLength / headCount. */
  readonly valueLength: number;
  /** Dimensions rotated by RoPE; defaults to keyLength. */
  readonly ropeDimensionCount: number;
  /** Defaults to 10000 as in llama.cpp. */
  readonly ropeFreqBase: number;
  readonly rmsNormEpsilon: number;
  /** Rows of the embedding matrix (`<arch>.vocab_size`, else its dims[1]). */
  readonly vocabSize: number;
  /** True when the file has no `output.weight`: the output head reuses `token_embd.weight`. */
  readonly tiedEmbeddings: boolean;
}

export function architectureConfig(header: GGUFHeader): ArchitectureConfig {
  const meta = header.metadata;
  const arch = getString(meta, 'general.architecture');
  const key = (name: string): string => `${arch}.${name}`;
  const embeddingLength = getCount(meta, key('embedding_length'));
  const headCount = getCount(meta, key('attention.head_count'));
  if (headCount === 0) throw invalid(key('attention.head_count'), 'positive', 0);
  const defaultHeadWidth = embeddingLength / headCount;
  const keyLength = getOptionalCount(meta, key('attention.key_length')) ?? defaultHeadWidth;
  const embeddings = header.tensors.find((tensor) => tensor.name === 'token_embd.weight');
  const vocabSize = getOptionalCount(meta, key('vocab_size')) ?? embeddings?.dims[1];
  if (vocabSize === undefined) {
    throw new TesseraError('GGUF_INVALID', `neither ${key('vocab_size')} nor token_embd.weight gives the vocabulary size`);
  }
  return {
    architecture: arch,
    blockCount: getCount(meta, key('block_count')),
    contextLength: getCount(meta, key('context_length')),
    embeddingLength,
    feedForwardLength: getCount(meta, key('feed_forward_length')),
    headCount,
    headCountKv: getOptionalCount(meta, key('attention.head_count_kv')) ?? headCount,
    keyLength,
    valueLength: getOptionalCount(meta, key('attention.value_length')) ?? defaultHeadWidth,
    ropeDimensionCount: getOptionalCount(meta, key('rope.dimension_count')) ?? keyLength,
    ropeFreqBase: getOptionalNumber(meta, key('rope.freq_base')) ?? 10000,
    rmsNormEpsilon: getNumber(meta, key('attention.layer_norm_rms_epsilon')),
    vocabSize,
    tiedEmbeddings: !header.tensors.some((tensor) => tensor.name === 'output.weight'),
  };
}
