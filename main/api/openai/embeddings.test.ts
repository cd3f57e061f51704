// POST /v1/embeddings with the official `openai` SDK against a Qwen3-Embedding-shaped random
// model, checked against llama.cpp's (node-llama-cpp) embedding of the same file.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { writeRandomEmbeddingModel } from '../../engine/worker/embedding-model.fixture.js';
import { HttpServer } from '../server.js';
import { ChatService } from '../chat/chat-service.js';
import { loadServedModel, type ServedModel } from '../chat/served-model.js';
import { OpenAIRouter } from './router.js';

const MODEL = 'qwen3-embedding-tiny';
let dir: string;
let path: string;
let server: HttpServer;
let model: ServedModel;
let client: OpenAI;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-embeddings-'));
  path = join(dir, `${MODEL}.gguf`);
  await writeRandomEmbeddingModel(path);
  // A small batch, so that longer inputs run through several forward calls.
  model = await loadServedModel({ path, threads: 1, contextLength: 256, maxBatchTokens: 16 });
  const service = new ChatService({ get: (id) => (id === model.id ? model : undefined), list: () => [model] }, () => 'call_unused');
  server = new HttpServer({ host: '127.0.0.1', port: 0 });
  server.mount('/v1', new OpenAIRouter(service));
  await server.listen();
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
});

after(async () => {
  await server?.close();
  await model?.engine.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const TEXTS = ['The quick brown fox jumps over the lazy dog.', 'Embeddings map text to vectors; '.repeat(6), 'x'];

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

test('embeddings.create (batched, base64 by default) agrees with llama.cpp on the same file', async () => {
  const result = await client.embeddings.create({ model: MODEL, input: TEXTS });
  assert.equal(result.object, 'list');
  assert.deepEqual(result.data.map((entry) => entry.index), [0, 1, 2]);
  const floats = await client.embeddings.create({ model: MODEL, input: TEXTS, encoding_format: 'float' });
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const theirModel = await llama.loadModel({ modelPath: path });
  const context = await theirModel.createEmbeddingContext({ contextSize: 256, threads: 1 });
  let promptTokens = 0;
  try {
    for (const [index, text] of TEXTS.entries()) {
      const vector = result.data[index]!.embedding;
      assert.equal(vector.length, model.engine.info.dim);
      assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-5, 'unit length');
      assert.deepEqual(vector, floats.data[index]!.embedding, 'base64 and float agree');
      // The same tokens on both sides: Qwen3-Embedding appends <|endoftext|>.
      const tokens = [...(await model.engine.tokenize(text)), 151643];
      promptTokens += tokens.length;
      const theirs = await context.getEmbeddingFor(tokens as Token[]);
      const similarity = cosine(vector, theirs.vector);
      assert.ok(similarity > 0.999, `input ${index}: cosine ${similarity} with llama.cpp`);
    }
  } finally {
    await context.dispose();
    await theirModel.dispose();
    await llama.dispose();
  }
  assert.equal(result.usage.prompt_tokens, promptTokens);
  // Different texts, clearly different vectors: the agreement above is not trivially true.
  assert.ok(cosine(result.data[0]!.embedding, result.data[2]!.embedding) < 0.99);
});

test('dimensions truncates and renormalizes; token-id input; errors are 400s', async () => {
  const full = await client.embeddings.create({ model: MODEL, input: 'hello there', encoding_format: 'float' });
  const short = await client.embeddings.create({ model: MODEL, input: 'hello there', dimensions: 32, encoding_format: 'float' });
  const cut = full.data[0]!.embedding.slice(0, 32);
  const norm = Math.hypot(...cut);
  short.data[0]!.embedding.forEach((value, i) => assert.ok(Math.abs(value - cut[i]! / norm) < 1e-5));
  const ids = await client.embeddings.create({ model: MODEL, input: [[9707, 1052, 151643]], encoding_format: 'float' });
  assert.equal(ids.usage.prompt_tokens, 3);
  await assert.rejects(client.embeddings.create({ model: MODEL, input: 'x', dimensions: 100000 }), (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'dimensions');
  await assert.rejects(client.embeddings.create({ model: MODEL, input: [] }), (error: unknown) => error instanceof OpenAI.BadRequestError);
  await assert.rejects(client.embeddings.create({ model: 'missing', input: 'x' }), (error: unknown) => error instanceof OpenAI.NotFoundError);
});
