import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GGUFValue } from '../gguf/types.js';
import { readVocab } from './vocab.js';

function metadata(model: 'gpt2' | 'llama', scores?: Float32Array): Map<string, GGUFValue> {
  const entries = new Map<string, GGUFValue>([
    ['tokenizer.ggml.model', model],
    ['tokenizer.ggml.tokens', ['a', 'b', 'ab']],
  ]);
  if (model === 'gpt2') entries.set('tokenizer.ggml.merges', ['a b']);
  if (scores !== undefined) entries.set('tokenizer.ggml.scores', scores);
  return entries;
}

test('only SentencePiece vocabularies hold scores, zero where the file has none', () => {
  assert.equal(readVocab(metadata('gpt2')).scores.length, 0);
  assert.equal(readVocab(metadata('gpt2', Float32Array.from([1, 2, 3]))).scores.length, 0);
  assert.deepEqual([...readVocab(metadata('llama')).scores], [0, 0, 0]);
  assert.deepEqual([...readVocab(metadata('llama', Float32Array.from([-1, -2, -3]))).scores], [-1, -2, -3]);
});
