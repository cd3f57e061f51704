// The OpenAI contract at the wire: raw SSE transcripts checked field by field, legacy fields,
// text completions, queueing, cancellation, prefix reuse, and a fuzz of bad and odd requests.

/* eslint-disable @typescript-eslint/no-explicit-any -- raw wire JSON, checked field by field */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApiServer, type TestApiServer } from './test-server.fixture.js';

let server: TestApiServer;

before(async () => {
  server = await startTestApiServer({ maxQueuedRequests: 1 });
});

after(async () => {
  await server?.close();
});

function post(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.baseURL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** The `data:` payloads of an SSE response, in order. */
async function transcript(response: Response): Promise<string[]> {
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await response.text();
  const events = text.split('\n\n').filter((block) => block.trim() !== '');
  return events.map((block) => {
    assert.ok(block.startsWith('data: '), `every event is a data line: ${block}`);
    return block.slice('data: '.length);
  });
}

const searchTool = {
  type: 'function',
  function: {
    name: 'search',
    parameters: {
      type: 'object',
      properties: { query: { type: 'string', maxLength: 40 }, limit: { type: 'integer' }, tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 } },
      required: ['query', 'limit'],
      additionalProperties: false,
    },
  },
} as const;

test('SSE transcript of streamed tool calls follows the contract field by field', async () => {
  const events = await transcript(
    await post('/chat/completions', {
      model: 'qwen3-tiny',
      messages: [{ role: 'user', content: 'Search twice.' }],
      tools: [searchTool],
      tool_choice: 'required',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 160,
      seed: 11,
    }),
  );
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((data) => JSON.parse(data) as Record<string, any>);
  const ids = new Set(chunks.map((chunk) => chunk.id));
  assert.equal(ids.size, 1, 'every chunk has the same id');
  for (const chunk of chunks) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.model, 'qwen3-tiny');
    assert.equal(typeof chunk.created, 'number');
    assert.ok('usage' in chunk, 'with include_usage every chunk carries usage (null until the last)');
  }
  const usageChunk = chunks.at(-1)!;
  assert.deepEqual(usageChunk.choices, []);
  assert.ok(usageChunk.usage.completion_tokens > 0);
  const choiceChunks = chunks.slice(0, -1);
  assert.equal(choiceChunks[0]!.choices[0].delta.role, 'assistant');
  assert.equal(choiceChunks[0]!.choices[0].delta.content, null, 'an answer that opens with a call has null content');
  const finish = choiceChunks.at(-1)!.choices[0];
  assert.equal(finish.finish_reason, 'tool_calls');
  assert.ok(choiceChunks.slice(0, -1).every((chunk) => chunk.choices[0].finish_reason === null));

  const calls: { id: string; name: string; args: string }[] = [];
  for (const chunk of choiceChunks) {
    const delta = chunk.choices[0].delta;
    assert.ok(!delta.content, 'no text leaks into content');
    for (const call of delta.tool_calls ?? []) {
      if (call.id !== undefined) {
        assert.match(call.id, /^call_/);
        assert.equal(call.type, 'function');
        assert.equal(call.function.name, 'search');
        assert.equal(call.function.arguments, '');
        assert.equal(call.index, calls.length);
        calls.push({ id: call.id, name: call.function.name, args: '' });
      } else {
        assert.deepEqual(Object.keys(call).sort(), ['function', 'index']);
        assert.deepEqual(Object.keys(call.function), ['arguments']);
        calls[call.index]!.args += call.function.arguments;
      }
    }
  }
  assert.ok(calls.length >= 1);
  assert.equal(new Set(calls.map((call) => call.id)).size, calls.length, 'ids are unique');
  for (const call of calls) {
    const args = JSON.parse(call.args) as { query: unknown; limit: unknown; tags?: unknown };
    assert.equal(typeof args.query, 'string');
    assert.ok((args.query as string).length <= 40);
    assert.ok(Number.isInteger(args.limit));
    if (args.tags !== undefined) assert.ok(Array.isArray(args.tags) && args.tags.every((tag) => tag === 'a' || tag === 'b'));
  }
});

test('legacy functions and function_call map onto tools', async () => {
  const response = await post('/chat/completions', {
    model: 'qwen3-tiny',
    messages: [{ role: 'user', content: 'Call it.' }],
    functions: [searchTool.function],
    function_call: { name: 'search' },
    max_tokens: 120,
    seed: 3,
  });
  const body = (await response.json()) as any;
  assert.equal(body.choices[0].finish_reason, 'tool_calls');
  assert.equal(body.choices[0].message.tool_calls[0].function.name, 'search');
});

test('tool_choice "none" answers in text', async () => {
  const body = (await (
    await post('/chat/completions', { model: 'qwen3-tiny', messages: [{ role: 'user', content: 'Hi' }], tools: [searchTool], tool_choice: 'none', max_tokens: 8, temperature: 0 })
  ).json()) as any;
  assert.equal(typeof body.choices[0].message.content, 'string');
  assert.equal(body.choices[0].message.tool_calls, undefined);
  assert.notEqual(body.choices[0].finish_reason, 'tool_calls');
});

test('text completions, streamed and whole, and fill-in-the-middle', async () => {
  const whole = (await (await post('/completions', { model: 'qwen3-tiny', prompt: 'def add(a, b):', max_tokens: 6, temperature: 0 })).json()) as any;
  assert.equal(whole.object, 'text_completion');
  assert.equal(typeof whole.choices[0].text, 'string');
  const events = await transcript(await post('/completions', { model: 'qwen3-tiny', prompt: 'def add(a, b):', max_tokens: 6, temperature: 0, stream: true }));
  assert.equal(events.at(-1), '[DONE]');
  const streamed = events.slice(0, -1).map((data) => (JSON.parse(data) as any).choices[0].text as string).join('');
  assert.equal(streamed, whole.choices[0].text);
  const fim = (await (await post('/completions', { model: 'qwen3-tiny', prompt: 'def add(a, b):\n    ', suffix: '\n    return c', max_tokens: 4 })).json()) as any;
  assert.equal(typeof fim.choices[0].text, 'string');
});

test('a follow-up turn reuses the cached prefix', async () => {
  const messages = [
    { role: 'system', content: 'You are a helpful assistant. '.repeat(20) },
    { role: 'user', content: 'First question?' },
  ];
  const first = (await (await post('/chat/completions', { model: 'qwen3-tiny', messages, max_tokens: 4, temperature: 0 })).json()) as any;
  const followUp = [...messages, { role: 'assistant', content: first.choices[0].message.content }, { role: 'user', content: 'And then?' }];
  const second = (await (await post('/chat/completions', { model: 'qwen3-tiny', messages: followUp, max_tokens: 4, temperature: 0 })).json()) as any;
  const cached = second.usage.prompt_tokens_details.cached_tokens as number;
  assert.ok(cached >= first.usage.prompt_tokens - 8, `cached ${cached} of the first turn's ${first.usage.prompt_tokens} prompt tokens`);
});

test('past the queue bound: 429 with Retry-After; a client that leaves frees the model', async () => {
  const long = { model: 'qwen3-tiny', messages: [{ role: 'user', content: 'Talk.' }], max_tokens: 400, stream: true };
  const first = new AbortController();
  const running = await post('/chat/completions', long, first.signal);
  const reader = running.body!.getReader();
  await reader.read(); // generation has started
  const waiting = post('/chat/completions', { ...long, max_tokens: 2 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const refused = await post('/chat/completions', { ...long, max_tokens: 2 });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '2');
  assert.equal(((await refused.json()) as any).error.type, 'rate_limit_error');
  // The first client goes away: its generation stops and the waiting request runs.
  const leftAt = performance.now();
  first.abort();
  await reader.cancel().catch(() => undefined);
  const served = await waiting;
  await served.text();
  assert.equal(served.status, 200);
  assert.ok(performance.now() - leftAt < 5000, 'the waiting request was not held up by the abandoned one');
});

test('fuzz: malformed and odd requests always get a well-formed answer, and the server stays up', async () => {
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const values: unknown[] = [null, true, 0, -1, 1.7976931348623157e308, 'x', '', [], {}, [{}], { role: 'user' }, 'qwen3-tiny', 2.5, '\u0000', { type: 'function' }];
  const keys = ['model', 'messages', 'tools', 'tool_choice', 'stream', 'max_tokens', 'temperature', 'stop', 'n', 'response_format', 'logprobs', 'top_logprobs', 'seed', 'functions'];
  const base = () => ({ model: 'qwen3-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
  // Mostly broken bodies (cheap: refused before the engine), some valid-but-odd ones that run it.
  for (let i = 0; i < 2400; i++) {
    let body: string;
    if (i % 20 !== 0) {
      const json = JSON.stringify({ ...base(), [pick(keys)]: pick(values) });
      const cut = Math.floor(random() * json.length);
      body = random() < 0.5 ? json.slice(0, cut) : json.slice(0, cut) + String.fromCharCode(Math.floor(random() * 128)) + json.slice(cut + 1);
    } else {
      const request: Record<string, unknown> = base();
      for (let j = 0; j < 3; j++) request[pick(keys)] = pick(values);
      body = JSON.stringify(request);
    }
    const response = await post('/chat/completions', body);
    const text = await response.text();
    if (response.status === 200) {
      if (/^data: /.test(text)) assert.ok(text.trimEnd().endsWith('data: [DONE]') || text.includes('"error"'), text);
      else assert.equal((JSON.parse(text) as any).object, 'chat.completion');
    } else {
      assert.ok(response.status >= 400 && response.status < 500, `status ${response.status}: ${text}`);
      const error = (JSON.parse(text) as any).error;
      assert.equal(typeof error.message, 'string');
      assert.equal(typeof error.type, 'string');
      assert.ok('param' in error && 'code' in error);
    }
  }
  const health = await post('/chat/completions', { ...base(), max_tokens: 2 });
  assert.equal(health.status, 200);
});
