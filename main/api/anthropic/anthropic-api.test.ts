// The Anthropic Messages API as real clients see it: a real HTTP server, the real engine on a
// small random-weight Qwen3-shaped model, and the official `@anthropic-ai/sdk`.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { AnthropicRouter, ANTHROPIC_MESSAGES_PATH } from './router.js';
import { malformedBodies } from '../testing/malformed-bodies.fixture.js';
import { parseSse } from '../testing/sse-transcript.fixture.js';
import { startTestApiServer, type TestApiServer } from '../openai/test-server.fixture.js';

let server: TestApiServer;
let client: Anthropic;
const API_KEY = 'test-key-anthropic';
const MODEL = 'qwen3-tiny';

before(async () => {
  server = await startTestApiServer({
    apiKey: API_KEY,
    callIdPrefix: 'toolu_test',
    // Mounted as the node mounts it: the OpenAI API under /v1, Messages at the longer prefix.
    mount: (http, service) => http.mount(ANTHROPIC_MESSAGES_PATH, new AnthropicRouter(service, { apiKey: API_KEY })),
  });
  client = new Anthropic({ baseURL: server.url, apiKey: API_KEY, maxRetries: 0 });
});

after(async () => {
  await server?.close();
});

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
  },
};

test('messages.create and messages.stream agree (greedy), with usage and stop_reason', async () => {
  const params = { model: MODEL, max_tokens: 10, temperature: 0, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Say hello.' }] };
  const whole = await client.messages.create(params);
  assert.equal(whole.type, 'message');
  assert.equal(whole.role, 'assistant');
  assert.match(whole.id, /^msg_/);
  assert.ok(whole.stop_reason === 'max_tokens' || whole.stop_reason === 'end_turn');
  assert.ok(whole.usage.input_tokens > 5);
  assert.ok(whole.usage.output_tokens > 0 && whole.usage.output_tokens <= 10);

  const stream = client.messages.stream(params);
  const final = await stream.finalMessage();
  assert.deepEqual(final.content, whole.content);
  assert.equal(final.stop_reason, whole.stop_reason);
  assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
  assert.equal(final.usage.input_tokens + (final.usage.cache_read_input_tokens ?? 0), whole.usage.input_tokens + (whole.usage.cache_read_input_tokens ?? 0));
});

test('stop_sequences end the message with stop_reason "stop_sequence"', async () => {
  const params = { model: MODEL, max_tokens: 16, temperature: 0, messages: [{ role: 'user' as const, content: 'Count to ten.' }] };
  const free = await client.messages.create(params);
  const text = free.content.map((block) => (block.type === 'text' ? block.text : block.type === 'thinking' ? block.thinking : '')).join('');
  // A piece from the middle of the greedy answer: the same run must stop there.
  const stop = [...text.trim()].slice(2, 4).join('');
  assert.ok(stop.length > 0, `the greedy answer is long enough: ${JSON.stringify(text)}`);
  const stopped = await client.messages.create({ ...params, stop_sequences: [stop] });
  assert.equal(stopped.stop_reason, 'stop_sequence');
  assert.equal(stopped.stop_sequence, stop);
});

test('tool_choice {type: "tool"} forces a valid tool_use block', async () => {
  const message = await client.messages.create({
    model: MODEL,
    max_tokens: 80,
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [weatherTool],
    tool_choice: { type: 'tool', name: 'get_weather' },
  });
  assert.equal(message.stop_reason, 'tool_use');
  const uses = message.content.filter((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use');
  assert.equal(uses.length, 1);
  assert.equal(uses[0]!.name, 'get_weather');
  assert.match(uses[0]!.id, /^toolu_/);
  const input = uses[0]!.input as { city: unknown; unit: unknown };
  assert.equal(typeof input.city, 'string');
  assert.ok(input.unit === 'celsius' || input.unit === 'fahrenheit');
});

test('messages.stream with tools: input_json_delta pieces build the tool input', async () => {
  const stream = client.messages.stream({
    model: MODEL,
    max_tokens: 80,
    messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    tools: [weatherTool],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
  });
  let json = '';
  stream.on('inputJson', (partial) => (json += partial));
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, 'tool_use');
  const use = final.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use')!;
  assert.deepEqual(JSON.parse(json), use.input);
  assert.equal(use.name, 'get_weather');
});

test('a two-step tool loop: tool_use, then tool_result fed back', async () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Rome?' }];
  const first = await client.messages.create({ model: MODEL, max_tokens: 80, messages, tools: [weatherTool], tool_choice: { type: 'any' } });
  const use = first.content.find((block): block is Anthropic.ToolUseBlock => block.type === 'tool_use')!;
  messages.push({ role: 'assistant', content: first.content });
  messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"temperature": 21}' }, { type: 'text', text: 'Thanks!' }] });
  // The tool result reaches the prompt: count_tokens grows by at least its text.
  const before = await client.messages.countTokens({ model: MODEL, messages: messages.slice(0, 1), tools: [weatherTool] });
  const after = await client.messages.countTokens({ model: MODEL, messages, tools: [weatherTool] });
  assert.ok(after.input_tokens > before.input_tokens + 8, `${before.input_tokens} -> ${after.input_tokens}`);
  const second = await client.messages.create({ model: MODEL, max_tokens: 12, messages, tools: [weatherTool] });
  assert.ok(['end_turn', 'max_tokens', 'tool_use'].includes(second.stop_reason!));
  assert.ok(second.usage.input_tokens + (second.usage.cache_read_input_tokens ?? 0) >= after.input_tokens - 1);
});

test('the raw stream follows the Messages event grammar', async () => {
  const response = await fetch(`${server.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 60,
      stream: true,
      messages: [{ role: 'user', content: 'Weather in Lima?' }],
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather' },
    }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = parseSse(await response.text()).map((frame) => {
    const data = JSON.parse(frame.data) as { type: string; index?: number; content_block?: { type: string }; delta?: Record<string, unknown> };
    assert.equal(frame.event, data.type, 'the event name is the data type');
    return data;
  });
  assert.equal(events[0]!.type, 'message_start');
  assert.equal(events.at(-1)!.type, 'message_stop');
  assert.equal(events.at(-2)!.type, 'message_delta');
  assert.equal(events.at(-2)!.delta!.stop_reason, 'tool_use');
  let open: number | undefined;
  let next = 0;
  const kinds: string[] = [];
  for (const event of events.slice(1, -2)) {
    switch (event.type) {
      case 'ping':
        break;
      case 'content_block_start':
        assert.equal(open, undefined, 'one block open at a time');
        assert.equal(event.index, next++);
        open = event.index;
        kinds.push(event.content_block!.type);
        break;
      case 'content_block_delta':
        assert.equal(event.index, open);
        assert.ok(['text_delta', 'thinking_delta', 'signature_delta', 'input_json_delta'].includes(event.delta!.type as string));
        break;
      case 'content_block_stop':
        assert.equal(event.index, open);
        open = undefined;
        break;
      default:
        assert.fail(`unexpected event ${event.type}`);
    }
  }
  assert.equal(open, undefined);
  assert.deepEqual(kinds.filter((kind) => kind === 'tool_use'), ['tool_use']);
});

test('errors come in Anthropic shape with the right status', async () => {
  await assert.rejects(
    client.messages.create({ model: 'missing', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof Anthropic.NotFoundError && (error.error as { error: { type: string } }).error.type === 'not_found_error',
  );
  await assert.rejects(
    client.messages.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming),
    (error: unknown) => error instanceof Anthropic.BadRequestError && /max_tokens/.test(error.message),
  );
  await assert.rejects(
    client.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'http://x/y.png' } }] }] }),
    (error: unknown) => error instanceof Anthropic.BadRequestError && /image/.test(error.message),
  );
  const wrongKey = new Anthropic({ baseURL: server.url, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrongKey.messages.create({ model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => error instanceof Anthropic.AuthenticationError);
});

test('fuzz: malformed bodies get Anthropic-shaped 4xx errors and the server keeps serving', async () => {
  const valid = {
    model: MODEL,
    max_tokens: 1,
    stream: true,
    system: [{ type: 'text', text: 'sys' }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'r' }] }] },
    ],
    tools: [{ name: 'f', input_schema: { type: 'object', properties: { a: { type: 'number' } } } }],
    tool_choice: { type: 'auto' },
    stop_sequences: ['zz'],
  };
  let refused = 0;
  for (const body of malformedBodies(valid, 60, 9)) {
    const response = await fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body });
    if (response.status === 200) {
      // Still valid after the mutation: it streams; its first event is enough, then cancel.
      const reader = response.body!.getReader();
      const { value } = await reader.read();
      // (or, with `stream` mutated away, one JSON object)
      assert.match(new TextDecoder().decode(value), /^(event: |\{)/, body);
      await reader.cancel();
      continue;
    }
    refused++;
    const json = (await response.json()) as { type: string; error?: { type: string; message: string } };
    assert.ok(response.status >= 400 && response.status < 500, `${response.status} for ${body}`);
    assert.equal(json.type, 'error', body);
    assert.equal(typeof json.error?.message, 'string');
    assert.equal(typeof json.error?.type, 'string');
  }
  assert.ok(refused > 30, `${refused} bodies were refused`);
  const ok = await client.messages.create({ model: MODEL, max_tokens: 1, messages: [{ role: 'user', content: 'still there?' }] });
  assert.equal(ok.type, 'message');
});
