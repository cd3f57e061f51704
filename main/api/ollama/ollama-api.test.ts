// Ollama's API as real clients see it: a real HTTP server serving a random-weight Qwen3-shaped
// chat model and a Qwen3-Embedding-shaped model, the real engine, and the official `ollama`
// npm client. Also: the Ollama paths share /api with the control API without colliding.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama, type Message, type Tool } from 'ollama';
import { writeRandomModel } from '../../engine/gguf/random-model.js';
import { writeRandomEmbeddingModel } from '../../engine/worker/embedding-model.fixture.js';
import { HttpServer } from '../server.js';
import { ChatService } from '../chat/chat-service.js';
import { loadServedModel, type ServedModel } from '../chat/served-model.js';
import { malformedBodies } from '../testing/malformed-bodies.fixture.js';
import { chatShapes } from './chat.js';
import { OLLAMA_PATHS, OllamaRouter } from './router.js';

let dir: string;
let server: HttpServer;
let chatModel: ServedModel;
let embeddingModel: ServedModel;
let ollama: Ollama;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-ollama-'));
  await writeRandomModel(join(dir, 'qwen3-tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 7 });
  await writeRandomEmbeddingModel(join(dir, 'qwen3-embedding-tiny.gguf'));
  chatModel = await loadServedModel({ path: join(dir, 'qwen3-tiny.gguf'), threads: 1, contextLength: 1024 });
  embeddingModel = await loadServedModel({ path: join(dir, 'qwen3-embedding-tiny.gguf'), threads: 1, contextLength: 256 });
  const models = [chatModel, embeddingModel];
  let calls = 0;
  const service = new ChatService({ get: (id) => models.find((model) => model.id === id), list: () => models }, () => `call_test${calls++}`);
  server = new HttpServer({ host: '127.0.0.1', port: 0 });
  const router = new OllamaRouter(service, { version: '9.8.7' });
  for (const path of OLLAMA_PATHS) server.mount(path, router);
  // A stand-in for the control API under /api: its paths must still reach it.
  server.mount('/api', { handleRequest: (_request, response) => void response.writeHead(299).end('control') });
  await server.listen();
  ollama = new Ollama({ host: server.url });
});

after(async () => {
  await server?.close();
  await chatModel?.engine.close();
  await embeddingModel?.engine.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const weatherTool: Tool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', required: ['city'], properties: { city: { type: 'string', description: 'the city' } } },
  },
};

test('list, show, ps and version; other /api paths still reach the control API', async () => {
  const list = await ollama.list();
  assert.deepEqual(list.models.map((model) => model.name).sort(), ['qwen3-embedding-tiny:latest', 'qwen3-tiny:latest']);
  const tiny = list.models.find((model) => model.name === 'qwen3-tiny:latest')!;
  assert.equal(tiny.details.family, 'qwen3');
  assert.equal(tiny.details.format, 'gguf');
  assert.ok(tiny.size > 1_000_000);
  assert.match(tiny.digest, /^[0-9a-f]{64}$/);

  const show = await ollama.show({ model: 'qwen3-tiny' });
  assert.ok(show.template.includes('<|im_start|>'));
  assert.ok(show.capabilities.includes('tools'));
  assert.equal((show.model_info as unknown as Record<string, unknown>)['general.architecture'], 'qwen3');
  const showEmbedding = await ollama.show({ model: 'qwen3-embedding-tiny:latest' });
  assert.deepEqual(showEmbedding.capabilities, ['embedding']);

  const ps = await ollama.ps();
  assert.equal(ps.models.length, 2);
  assert.equal((await ollama.version()).version, '9.8.7');

  const control = await fetch(`${server.url}/api/node`);
  assert.equal(control.status, 299);
  assert.equal(await control.text(), 'control');
});

test('chat: streamed lines concatenate to the whole answer (greedy), then a done line with counts', async () => {
  const request = { model: 'qwen3-tiny', messages: [{ role: 'user', content: 'Say hello.' }], options: { temperature: 0, num_predict: 10 } };
  const whole = await ollama.chat({ ...request, stream: false });
  assert.equal(whole.done, true);
  assert.equal(whole.message.role, 'assistant');
  assert.ok(whole.done_reason === 'length' || whole.done_reason === 'stop');
  assert.ok(whole.prompt_eval_count > 5);
  assert.ok(whole.eval_count > 0 && whole.eval_count <= 10);

  let content = '';
  let thinking = '';
  let last;
  for await (const part of await ollama.chat({ ...request, stream: true })) {
    content += part.message.content;
    thinking += part.message.thinking ?? '';
    last = part;
  }
  assert.equal(content, whole.message.content);
  assert.equal(thinking, whole.message.thinking ?? '');
  assert.equal(last?.done, true);
  assert.equal(last?.eval_count, whole.eval_count);
});

test('chat with tools: assistant tool_calls with object arguments and tool results reach the prompt', async () => {
  const messages: Message[] = [{ role: 'user', content: 'Weather in Rome?' }];
  const first = await ollama.chat({ model: 'qwen3-tiny:latest', messages, tools: [weatherTool], options: { num_predict: 4 }, stream: false });
  messages.push({ role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Rome' } } }] });
  messages.push({ role: 'tool', content: '{"temperature": 21, "sky": "clear"}', tool_name: 'get_weather' });
  const second = await ollama.chat({ model: 'qwen3-tiny:latest', messages, tools: [weatherTool], options: { num_predict: 4 }, stream: false });
  assert.ok(second.prompt_eval_count > first.prompt_eval_count + 15, `${first.prompt_eval_count} -> ${second.prompt_eval_count}`);
});

test('the tool-call lines have Ollama\'s shape: whole calls, arguments as objects, before the done line', () => {
  const shapes = chatShapes('m', performance.now());
  const done = {
    type: 'done' as const,
    finishReason: 'tool_calls' as const,
    content: null,
    reasoning: '',
    toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city": "Oslo"}' }],
    usage: { promptTokens: 10, cachedPromptTokens: 0, completionTokens: 5 },
    timing: { prefillMs: 1, decodeMs: 2, prefillTokensPerSecond: 1, decodeTokensPerSecond: 1 },
  };
  const line = shapes.toolCalls(done) as { message: { tool_calls: unknown }; done: boolean };
  assert.deepEqual(line.message.tool_calls, [{ function: { index: 0, name: 'get_weather', arguments: { city: 'Oslo' } } }]);
  assert.equal(line.done, false);
  const final = shapes.final(done, true, '') as { message: { tool_calls: unknown; content: string }; done_reason: string; eval_duration: number };
  assert.deepEqual(final.message.tool_calls, line.message.tool_calls);
  assert.equal(final.message.content, '');
  assert.equal(final.done_reason, 'stop');
  assert.equal(final.eval_duration, 2e6);
});

test('format: a JSON schema is enforced; generate streams, raw generate skips the template', async () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] };
  const chat = await ollama.chat({ model: 'qwen3-tiny', messages: [{ role: 'user', content: 'A person.' }], format: schema, options: { num_predict: 60, seed: 1 }, stream: false });
  const value = JSON.parse(chat.message.content) as { name: unknown; age: unknown };
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age));

  let text = '';
  let final;
  for await (const part of await ollama.generate({ model: 'qwen3-tiny', prompt: 'Once upon a time', system: 'Tell stories.', options: { num_predict: 6, temperature: 0 }, stream: true })) {
    text += part.response;
    final = part;
  }
  assert.equal(final?.done, true);
  const raw = await ollama.generate({ model: 'qwen3-tiny', prompt: 'Once upon a time', raw: true, options: { num_predict: 6, temperature: 0 }, stream: false });
  assert.ok(raw.prompt_eval_count < (final?.prompt_eval_count ?? 0), 'raw: no chat template around the prompt');
  assert.equal(typeof text, 'string');
  const load = await ollama.generate({ model: 'qwen3-tiny', prompt: '', stream: false });
  assert.equal(load.done_reason, 'load');
});

test('embed: batched, normalized, dimensions; a chat model is refused', async () => {
  const result = await ollama.embed({ model: 'qwen3-embedding-tiny', input: ['first text', 'second text'] });
  assert.equal(result.embeddings.length, 2);
  for (const vector of result.embeddings) {
    assert.equal(vector.length, embeddingModel.engine.info.dim);
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-5);
  }
  assert.notDeepEqual(result.embeddings[0], result.embeddings[1]);
  const single = await ollama.embed({ model: 'qwen3-embedding-tiny', input: 'first text', dimensions: 64 } as Parameters<Ollama['embed']>[0]);
  assert.equal(single.embeddings[0]!.length, 64);
  await assert.rejects(ollama.embed({ model: 'qwen3-tiny', input: 'x' }), (error: Error & { status_code?: number }) => error.status_code === 400 && /not an embedding model/.test(error.message));
});

test('errors: unknown model 404, bad bodies 400 with {"error"}, and the server keeps serving', async () => {
  await assert.rejects(ollama.chat({ model: 'missing', messages: [{ role: 'user', content: 'x' }], stream: false }), (error: Error & { status_code?: number }) => error.status_code === 404);
  // Streamed, so that a mutation that is still valid (say, no num_predict) answers at once
  // and is cancelled after its first line instead of generating to the end of the context.
  const valid = {
    model: 'qwen3-tiny',
    stream: true,
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] },
      { role: 'tool', content: 'r', tool_name: 'f' },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
    options: { num_predict: 1, temperature: 0.5, stop: ['zz'] },
  };
  let refused = 0;
  for (const body of malformedBodies(valid, 60, 3)) {
    const response = await fetch(`${server.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (response.status === 200) {
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      const firstLine = new TextDecoder().decode(value).split('\n')[0]!;
      assert.ok('done' in (JSON.parse(firstLine) as object), body);
      await reader.cancel();
      continue;
    }
    refused++;
    assert.ok(response.status >= 400 && response.status < 500, `${response.status} for ${body}`);
    assert.equal(typeof ((await response.json()) as { error: unknown }).error, 'string', body);
  }
  assert.ok(refused > 25, `${refused} bodies were refused`);
  const ok = await ollama.chat({ model: 'qwen3-tiny', messages: [{ role: 'user', content: 'still there?' }], options: { num_predict: 1 }, stream: false });
  assert.equal(ok.done, true);
});
