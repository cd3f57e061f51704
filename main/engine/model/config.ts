// The hyperparameters of a llama-family model, read from GGUF metadata (keys as llama.cpp's
// converter writes them: `<arch>.block_count`, `<arch>.attention.head_count`, …).

import { TesseraError } from '../../../shared/errors.js';
import type { RopeStyle } from '../backend.js';
import type { GGUFHeader, GGUFValue } from '../gguf/types.js';

/** Architectures this forward pass runs, with what sets each apart. */
export const LLAMA_FAMILY = {
  llama: { rope: 'normal', qkvBias: false, qkNorm: false },
  qwen2: { rope: 'neox', qkvBias: true, qkNorm: false },
  qwen3: { rope: 'neox', qkvBias: false, qkNorm: true },
} as const satisfies Record<string, { rope: RopeStyle; qkvBias: boolean; qkNorm: boolean }>;

export type LlamaArchitecture = keyof typeof LLAMA_FAMILY;

export interface Config {
  readonly architecture: LlamaArchitecture;
  /** Transformer blocks in the whole model. */
  readonly n_layers: number;
  /** Width of the residual stream (hidden size). */
  readonly dim: number;
  /** Width of the feed-forward hidden layer. */
  readonly hidden_dim: number;
  readonly n_heads: number;
  readonly n_kv_heads: number;
  /** Per-head width of q and k (qwen3: 128, not dim / n_heads). */
  readonly head_dim: number;
  /** Rows of the embedding table; 0 when this cannot be known (a middle shard of a file without a vocabulary). */
  readonly vocab_size: number;
  /** The context the model was trained for. */
  readonly context_length: number;
  readonly rms_eps: number;
  readonly rope_theta: number;
  readonly rope_style: RopeStyle;
  readonly qkv_bias: boolean;
  readonly qk_norm: boolean;
}

export function isLlamaArchitecture(name: string): name is LlamaArchitecture {
  return Object.prototype.hasOwnProperty.call(LLAMA_FAMILY, name);
}

export function readConfig(header: GGUFHeader): Config {
  const architecture = header.metadata.get('general.architecture');
  if (typeof architecture !== 'string') {
    throw new TesseraError('GGUF_INVALID', 'the file has no general.architecture');
  }
  if (!isLlamaArchitecture(architecture)) {
    throw new TesseraError(
      'MODEL_UNSUPPORTED_ARCHITECTURE',
      `architecture "${architecture}" is not supported (supported: ${Object.keys(LLAMA_FAMILY).join(', ')})`,
    );
  }
  const key = (name: string): string => `${architecture}.${name}`;
  const dim = requiredInteger(header, key('embedding_length'));
  const n_heads = requiredInteger(header, key('attention.head_count'));
  const head_dim = optionalNumber(header, key('attention.key_length')) ?? dim / n_heads;
  const valueLength = optionalNumber(header, key('attention.value_length')) ?? head_dim;
  const ropeDims = optionalNumber(header, key('rope.dimension_count')) ?? head_dim;
  if (!Number.isInteger(head_dim) || valueLength !== head_dim || ropeDims !== head_dim) {
    throw new TesseraError(
      'MODEL_UNSUPPORTED_ARCHITECTURE',
      `head width ${head_dim} (values ${valueLength}, rotary ${ropeDims}) is not supported: they must be equal`,
    );
  }
  const ropeScaling = header.metadata.get(key('rope.scaling.type'));
  if (ropeScaling !== undefined && ropeScaling !== 'none') {
    throw new TesseraError('MODEL_UNSUPPORTED_ARCHITECTURE', `rope scaling "${String(ropeScaling)}" is not supported`);
  }
  const embedding = header.tensors.find((t) => t.name === 'token_embd.weight');
  const tokens = header.metadata.get('tokenizer.ggml.tokens');
  const vocab_size =
    optionalNumber(header, key('vocab_size')) ?? embedding?.dims[1] ?? (Array.isArray(tokens) ? tokens.length : 0);
  const family = LLAMA_FAMILY[architecture];
  return {
    architecture,
    n_layers: requiredInteger(header, key('block_count')),
    dim,
    hidden_dim: requiredInteger(header, key('feed_forward_length')),
    n_heads,
    n_kv_heads: optionalNumber(header, key('attention.head_count_kv')) ?? n_heads,
    head_dim,
    vocab_size,
    context_length: optionalNumber(header, key('context_length')) ?? 2048,
    rms_eps: optionalNumber(header, key('attention.layer_norm_rms_epsilon')) ?? 1e-5,
    rope_theta: optionalNumber(header, key('rope.freq_base')) ?? 10000,
    rope_style: family.rope,
    qkv_bias: family.qkvBias,
    qk_norm: family.qkNorm,
  };
}

function optionalNumber(header: GGUFHeader, name: string): number | undefined {
  const value: GGUFValue | undefined = header.metadata.get(name);
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  // Some converters write a per-layer array (e.g. head_count_kv); all entries must agree here.
  if ((Array.isArray(value) || ArrayBuffer.isView(value)) && (value as ArrayLike<unknown>).length > 0) {
    const values = Array.from(value as ArrayLike<unknown>);
    if (values.every((v) => v === values[0]) && typeof values[0] === 'number') return values[0];
    throw new TesseraError('MODEL_UNSUPPORTED_ARCHITECTURE', `${name} differs between layers, which is not supported`);
  }
  throw new TesseraError('GGUF_INVALID', `${name} is not a number`);
}

function requiredInteger(header: GGUFHeader, name: string): number {
  const value = optionalNumber(header, name);
  if (value === undefined || !Number.isInteger(value) || value <= 0) {
    throw new TesseraError('GGUF_INVALID', `${name} is missing or not a positive integer`);
  }
  return value;
}
