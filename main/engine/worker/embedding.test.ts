// Pooled embeddings in the engine: the file's pooling type is found, EOS is appended as the
// GGUF asks, long inputs span several forward batches, and a chat model refuses. (Agreement
// with llama.cpp on the same file is checked end to end in main/api/openai/embeddings.test.ts.)

import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../engine.js';
import { writeRandomModel } from '../gguf/random-model.js';
import { writeRandomEmbeddingModel } from './embedding-model.fixture.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-embedding-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('last-token pooling: EOS appended, batches of any size give the same vector', async () => {
  const path = join(dir, 'qwen3-embedding-tiny.gguf');
  await writeRandomEmbeddingModel(path);
  const small = await Engine.load({ path, threads: 1, contextLength: 128, maxBatchTokens: 8 });
  const large = await Engine.load({ path, threads: 1, contextLength: 128 });
  try {
    assert.equal(small.info.pooling, 'last');
    const text = 'Embeddings map text to vectors. '.repeat(4);
    const [a, b] = await Promise.all([small.embed([text, [1, 2, 3]]), large.embed([text])]);
    assert.equal(a.tokenCounts[0], (await small.tokenize(text)).length + 1, 'EOS appended to text');
    assert.equal(a.tokenCounts[1], 3, 'token ids are used as they are');
    assert.equal(a.vectors[0]!.length, small.info.dim);
    for (let i = 0; i < small.info.dim; i++) assert.ok(Math.abs(a.vectors[0]![i]! - b.vectors[0]![i]!) < 1e-3, `value ${i}`);
    await assert.rejects(small.embed(['x'.repeat(2000)]), { code: 'CONTEXT_OVERFLOW' });
  } finally {
    await small.close();
    await large.close();
  }
});

it('a chat model has no pooling and refuses to embed', async () => {
  const chatPath = join(dir, 'chat.gguf');
  await writeRandomModel(chatPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 1 });
  const chat = await Engine.load({ path: chatPath, threads: 1, contextLength: 64 });
  try {
    assert.equal(chat.info.pooling, undefined);
    await assert.rejects(chat.embed(['hi']), { code: 'REQUEST_INVALID' });
  } finally {
    await chat.close();
  }
});
