// OpenAI's Responses API as real clients see it: a real HTTP server, the real engine on a small
// random-weight Qwen3-shaped model, and the official `openai` SDK (responses.create / .stream).

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { malformedBodies } from '../testing/malformed-bodies.fixture.js';
import { parseSse } from '../testing/sse-transcript.fixture.js';
import { startTestApiServer, type TestApiServer } from './test-server.fixture.js';

let server: TestApiServer;
let client: OpenAI;
const API_KEY = 'test-key-responses';
const MODEL = 'qwen3-tiny';

before(async () => {
  server = await startTestApiServer({ apiKey: API_KEY });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: API_KEY, maxRetries: 0 });
});

after(async () => {
  await server?.close();
});

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
  strict: true,
};

test('responses.create and responses.stream agree (greedy); max_output_tokens makes it incomplete', async () => {
  const params = { model: MODEL, instructions: 'Be brief.', input: 'Say hello.', temperature: 0, max_output_tokens: 10 };
  const whole = await client.responses.create(params);
  assert.equal(whole.object, 'response');
  assert.match(whole.id, /^resp_/);
  assert.ok(whole.status === 'completed' || whole.status === 'incomplete');
  if (whole.status === 'incomplete') assert.equal(whole.incomplete_details?.reason, 'max_output_tokens');
  assert.ok(whole.usage!.input_tokens > 5);
  assert.ok(whole.usage!.output_tokens <= 10);

  const stream = client.responses.stream(params);
  let deltas = '';
  stream.on('response.output_text.delta', (event) => (deltas += event.delta));
  const final = await stream.finalResponse();
  assert.equal(final.output_text, whole.output_text);
  assert.equal(deltas, whole.output_text);
  assert.equal(final.status, whole.status);
  assert.deepEqual(final.output.map((item) => item.type), whole.output.map((item) => item.type));
});

test('a function tool with tool_choice "required" gives a function_call item with valid arguments', async () => {
  const response = await client.responses.create({ model: MODEL, input: 'Weather in Paris?', tools: [weatherTool], tool_choice: 'required', max_output_tokens: 80 });
  const calls = response.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
  assert.ok(calls.length >= 1);
  const call = calls[0]!;
  assert.equal(call.name, 'get_weather');
  assert.equal(call.status, 'completed');
  assert.match(call.call_id, /^call_/);
  const args = JSON.parse(call.arguments) as { city: unknown; unit: unknown };
  assert.equal(typeof args.city, 'string');
  assert.ok(args.unit === 'celsius' || args.unit === 'fahrenheit');
});

test('responses.stream with a function tool: argument deltas, done, and a tool loop', async () => {
  const stream = client.responses.stream({ model: MODEL, input: 'Weather in Oslo?', tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 80 });
  let deltas = '';
  let done = '';
  stream.on('response.function_call_arguments.delta', (event) => (deltas += event.delta));
  stream.on('response.function_call_arguments.done', (event) => (done = event.arguments));
  const final = await stream.finalResponse();
  const call = final.output.find((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
  assert.equal(deltas, call.arguments);
  assert.equal(done, call.arguments);
  JSON.parse(call.arguments);

  // Feed the call and its output back as items, statelessly.
  const second = await client.responses.create({
    model: MODEL,
    input: [
      { role: 'user', content: 'Weather in Oslo?' },
      { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: 'function_call_output', call_id: call.call_id, output: '{"temperature": 4}' },
    ],
    tools: [weatherTool],
    max_output_tokens: 8,
  });
  assert.ok(second.usage!.input_tokens > final.usage!.input_tokens, 'the call and its output reached the prompt');
});

test('text.format json_schema makes the output follow the schema', async () => {
  const response = await client.responses.create({
    model: MODEL,
    input: 'Give me a person.',
    text: { format: { type: 'json_schema', name: 'person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false } } },
    max_output_tokens: 60,
  });
  const value = JSON.parse(response.output_text) as { name: unknown; age: unknown };
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age));
});

test('the raw stream: numbered events, items opened and closed in order, completed last', async () => {
  const response = await fetch(`${server.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ model: MODEL, input: 'Weather in Lima?', tools: [weatherTool], tool_choice: 'required', stream: true, max_output_tokens: 80 }),
  });
  assert.equal(response.status, 200);
  const events = parseSse(await response.text()).map((frame) => {
    const data = JSON.parse(frame.data) as { type: string; sequence_number: number; output_index?: number; item?: { type: string; id: string } };
    assert.equal(frame.event, data.type);
    return data;
  });
  events.forEach((event, index) => assert.equal(event.sequence_number, index));
  assert.deepEqual(events.slice(0, 2).map((event) => event.type), ['response.created', 'response.in_progress']);
  assert.equal(events.at(-1)!.type, 'response.completed');
  let open: number | undefined;
  let added = 0;
  for (const event of events.slice(2, -1)) {
    if (event.type === 'response.output_item.added') {
      assert.equal(open, undefined);
      assert.equal(event.output_index, added++);
      open = event.output_index;
    } else if (event.type === 'response.output_item.done') {
      assert.equal(event.output_index, open);
      open = undefined;
    } else {
      assert.equal(event.output_index, open, `${event.type} belongs to the open item`);
    }
  }
  assert.equal(open, undefined);
  assert.ok(events.some((event) => event.type === 'response.function_call_arguments.done'));
});

test('errors: previous_response_id, unknown model, non-function tools, bad key', async () => {
  await assert.rejects(
    client.responses.create({ model: MODEL, input: 'hi', previous_response_id: 'resp_123' }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'previous_response_id',
  );
  await assert.rejects(client.responses.create({ model: 'missing', input: 'hi' }), (error: unknown) => error instanceof OpenAI.NotFoundError);
  await assert.rejects(
    client.responses.create({ model: MODEL, input: 'hi', tools: [{ type: 'web_search_preview' }] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /web_search_preview/.test(error.message),
  );
  const wrongKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'nope', maxRetries: 0 });
  await assert.rejects(wrongKey.responses.create({ model: MODEL, input: 'hi' }), (error: unknown) => error instanceof OpenAI.AuthenticationError);
});

test('fuzz: malformed bodies get OpenAI-shaped 4xx errors and the server keeps serving', async () => {
  const valid = {
    model: MODEL,
    max_output_tokens: 1,
    stream: true,
    instructions: 'x',
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c1', output: 'r' },
    ],
    tools: [{ type: 'function', name: 'f', parameters: { type: 'object', properties: {} } }],
    tool_choice: 'auto',
    text: { format: { type: 'text' } },
  };
  let refused = 0;
  for (const body of malformedBodies(valid, 60, 5)) {
    const response = await fetch(`${server.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` }, body });
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
    const json = (await response.json()) as { object?: string; error?: { message: string; type: string } };
    assert.ok(response.status >= 400 && response.status < 500, `${response.status} for ${body}`);
    assert.equal(typeof json.error?.message, 'string', body);
    assert.equal(typeof json.error?.type, 'string');
  }
  assert.ok(refused > 30, `${refused} bodies were refused`);
  const ok = await client.responses.create({ model: MODEL, input: 'still there?', max_output_tokens: 1 });
  assert.equal(ok.object, 'response');
});
