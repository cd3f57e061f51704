// The vocabulary as stored in a GGUF file's `tokenizer.*` metadata, read once into arrays and
// compact lookup tables (token-ids.ts, merge-table.ts). Defaults follow llama.cpp
// (llama-vocab.cpp) where a key is absent.

import { TesseraError } from '../../../shared/errors.js';
import type { GGUFMetadata, GGUFValue } from '../gguf/types.js';
import { MergeTable } from './merge-table.js';
import { TokenIds } from './token-ids.js';

/** `tokenizer.ggml.token_type` values, numbered as in GGUF. */
export enum TokenType {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
}

export type VocabKind = 'bpe' | 'spm';

export interface Vocab {
  readonly kind: VocabKind;
  /** `tokenizer.ggml.pre` for BPE vocabularies ('default' when absent), undefined for SPM. */
  readonly pre: string | undefined;
  readonly tokens: readonly string[];
  readonly types: Int32Array;
  /** SentencePiece merge scores (0 where the file has none); empty for BPE, which ranks merges instead. */
  readonly scores: Float32Array;
  /** Token text → id (the later id where two tokens share a text). */
  readonly ids: TokenIds;
  /** BPE merge ranks by the pair of tokens merged. Empty for SPM. */
  readonly merges: MergeTable;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly unkId: number | undefined;
  readonly padId: number | undefined;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly addSpacePrefix: boolean;
}

/** The end-of-turn tokens llama.cpp recognises by text (llama-vocab.cpp, `special_eog_ids`). */
export const END_OF_GENERATION_TEXTS: ReadonlySet<string> = new Set([
  '<|eot_id|>',
  '<|im_end|>',
  '<|end|>',
  '<|return|>',
  '<|call|>',
  '<end_of_turn>',
  '<|endoftext|>',
  '<|eom_id|>',
  '<EOT>',
  '_<EOT>',
  '<|end_of_text|>',
  '<end_of_utterance>',
  '<｜end▁of▁sentence｜>',
]);

/** Pre-tokenizer names that imply llama.cpp's `ignore_merges` and `add_bos` defaults. */
export const LLAMA3_PRE_NAMES: ReadonlySet<string> = new Set(['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'pixtral']);

export function readVocab(metadata: GGUFMetadata): Vocab {
  const model = requireString(metadata, 'tokenizer.ggml.model');
  let kind: VocabKind;
  if (model === 'gpt2') kind = 'bpe';
  else if (model === 'llama') kind = 'spm';
  else throw new TesseraError('TOKENIZER_UNSUPPORTED', `tokenizer model "${model}" is not supported (gpt2 and llama are)`);

  const tokens = metadata.get('tokenizer.ggml.tokens');
  if (!Array.isArray(tokens) || tokens.some((token) => typeof token !== 'string')) {
    throw new TesseraError('GGUF_INVALID', 'tokenizer.ggml.tokens is missing or not a string array');
  }
  const tokenList = tokens as readonly string[];
  const count = tokenList.length;
  const types = toInt32(metadata.get('tokenizer.ggml.token_type'), count, TokenType.NORMAL);
  // Only SentencePiece reads scores: a BPE vocabulary (scoreless in every file we know) would
  // otherwise hold a vocabulary-sized array of zeros (0.6 MiB for Qwen).
  const scores = kind === 'spm' ? toFloat32(metadata.get('tokenizer.ggml.scores'), count) : new Float32Array(0);

  const ids = new TokenIds(tokenList);
  let mergeList: readonly string[] = [];
  if (kind === 'bpe') {
    const value = metadata.get('tokenizer.ggml.merges');
    if (!Array.isArray(value) || value.some((merge) => typeof merge !== 'string')) {
      throw new TesseraError('GGUF_INVALID', 'tokenizer.ggml.merges is missing or not a string array');
    }
    mergeList = value as readonly string[];
  }
  // The merge strings themselves are not kept: once the header is dropped they are garbage.
  const merges = new MergeTable(mergeList, ids);

  const preValue = metadata.get('tokenizer.ggml.pre');
  const pre = kind === 'bpe' ? (typeof preValue === 'string' ? preValue : 'default') : undefined;
  const optionalId = (key: string, fallback: number | undefined): number | undefined => {
    const value = metadata.get(key);
    const id = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : fallback;
    return id !== undefined && id >= 0 && id < count ? id : undefined;
  };
  const optionalBool = (key: string, fallback: boolean): boolean => {
    const value = metadata.get(key);
    return typeof value === 'boolean' ? value : fallback;
  };
  const llama3Like = pre !== undefined && LLAMA3_PRE_NAMES.has(pre);
  return {
    kind,
    pre,
    tokens: tokenList,
    types,
    scores,
    ids,
    merges,
    bosId: optionalId('tokenizer.ggml.bos_token_id', kind === 'spm' ? 1 : undefined),
    eosId: optionalId('tokenizer.ggml.eos_token_id', kind === 'spm' ? 2 : undefined),
    unkId: optionalId('tokenizer.ggml.unknown_token_id', kind === 'spm' ? 0 : undefined),
    padId: optionalId('tokenizer.ggml.padding_token_id', undefined),
    addBos: optionalBool('tokenizer.ggml.add_bos_token', kind === 'spm' || llama3Like),
    addEos: optionalBool('tokenizer.ggml.add_eos_token', false),
    addSpacePrefix: optionalBool('tokenizer.ggml.add_space_prefix', kind === 'spm'),
  };
}

function requireString(metadata: GGUFMetadata, key: string): string {
  const value = metadata.get(key);
  if (typeof value !== 'string') throw new TesseraError('TOKENIZER_UNSUPPORTED', `GGUF metadata has no ${key}`);
  return value;
}

function toInt32(value: GGUFValue | undefined, count: number, fallback: number): Int32Array {
  if (value instanceof Int32Array) return value;
  const out = new Int32Array(count).fill(fallback);
  if (value instanceof Uint32Array || Array.isArray(value)) {
    for (let i = 0; i < Math.min(count, value.length); i++) out[i] = Number(value[i]);
  }
  return out;
}

function toFloat32(value: GGUFValue | undefined, count: number): Float32Array {
  if (value instanceof Float32Array) return value;
  const out = new Float32Array(count);
  if (value instanceof Int32Array || value instanceof Uint32Array || Array.isArray(value)) {
    for (let i = 0; i < Math.min(count, value.length); i++) out[i] = Number(value[i]);
  }
  return out;
}
