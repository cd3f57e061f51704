// The OpenAI API as real clients see it: a real HTTP server, the real engine on a small
// random-weight Qwen3-shaped model, and the official `openai` SDK.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startTestApiServer, type TestApiServer } from './test-server.fixture.js';

let server: TestApiServer;
let client: OpenAI;
const API_KEY = 'test-key-123';

before(async () => {
  server = await startTestApiServer({ apiKey: API_KEY });
  client = new OpenAI({ baseURL: server.baseURL, apiKey: API_KEY, maxRetries: 0 });
});

after(async () => {
  await server?.close();
});

const weatherTool: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'],
      additionalProperties: false,
    },
    strict: true,
  },
};

test('models are listed under the file name', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((entry) => entry.id), ['qwen3-tiny']);
  const one = await client.models.retrieve('qwen3-tiny');
  assert.equal(one.object, 'model');
  await assert.rejects(client.models.retrieve('nope'), (error: unknown) => error instanceof OpenAI.NotFoundError);
});

test('non-streamed and streamed chat agree (greedy)', async () => {
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hello.' }];
  const whole = await client.chat.completions.create({ model: 'qwen3-tiny', messages, temperature: 0, max_tokens: 12 });
  const choice = whole.choices[0]!;
  assert.equal(choice.message.role, 'assistant');
  assert.equal(typeof choice.message.content, 'string');
  assert.ok(choice.finish_reason === 'length' || choice.finish_reason === 'stop');
  assert.ok(whole.usage!.prompt_tokens > 5);
  assert.ok(whole.usage!.completion_tokens <= 12);

  const stream = await client.chat.completions.create({ model: 'qwen3-tiny', messages, temperature: 0, max_tokens: 12, stream: true, stream_options: { include_usage: true } });
  let content = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined | null;
  for await (const chunk of stream) {
    content += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(content, choice.message.content);
  assert.equal(finish, choice.finish_reason);
  assert.equal(usage?.completion_tokens, whole.usage!.completion_tokens);
});

test('tool_choice "required" makes even a random model call a tool with valid arguments', async () => {
  const completion = await client.chat.completions.create({
    model: 'qwen3-tiny',
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [weatherTool],
    tool_choice: 'required',
    max_tokens: 80,
    seed: 3,
  });
  const choice = completion.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  const call = choice.message.tool_calls![0]!;
  assert.match(call.id, /^call_/);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  const args = JSON.parse(call.function.arguments) as { city: unknown; unit: unknown };
  assert.equal(typeof args.city, 'string');
  assert.ok(args.unit === 'celsius' || args.unit === 'fahrenheit');
});

test('streamed tool calls: ids only in the first delta, arguments concatenate to JSON', async () => {
  const stream = client.chat.completions.stream({
    model: 'qwen3-tiny',
    messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    tools: [weatherTool],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    max_tokens: 80,
    seed: 5,
  });
  const deltas: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
  stream.on('chunk', (chunk) => deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? [])));
  const final = await stream.finalChatCompletion();
  const call = final.choices[0]!.message.tool_calls![0]!;
  assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(deltas.filter((delta) => delta.id !== undefined).length, 1);
  assert.equal(deltas[0]!.function?.name, 'get_weather');
  assert.equal(deltas.map((delta) => delta.function?.arguments ?? '').join(''), call.function.arguments);
  JSON.parse(call.function.arguments);
});

test('runTools: a two-step tool loop with tool results fed back', async () => {
  const seen: string[] = [];
  const runner = client.chat.completions.runTools({
    model: 'qwen3-tiny',
    messages: [{ role: 'user', content: 'Weather in Rome?' }],
    tool_choice: 'required',
    max_tokens: 80,
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: weatherTool.function.parameters!,
          function: (args: { city: string }) => {
            seen.push(args.city);
            return { temperature: 21 };
          },
          parse: JSON.parse,
        },
      },
    ],
  }, { maxChatCompletions: 2 });
  await runner.done().catch(() => undefined);
  const messages = runner.messages;
  assert.equal(seen.length, 2, 'the tool ran once per model turn');
  assert.equal(messages.filter((message) => message.role === 'tool').length, 2);
});

test('structured output follows the json_schema', async () => {
  const completion = await client.chat.completions.create({
    model: 'qwen3-tiny',
    messages: [{ role: 'user', content: 'Give me a person.' }],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'person', strict: true, schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] } },
    },
    max_tokens: 60,
    seed: 1,
  });
  const value = JSON.parse(completion.choices[0]!.message.content!) as { name: unknown; age: unknown };
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age));
});

test('errors have OpenAI shape and status', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof OpenAI.NotFoundError && error.code === 'model_not_found',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'qwen3-tiny', messages: [{ role: 'user', content: 'x' }], n: 2 }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'n',
  );
  const wrongKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), (error: unknown) => error instanceof OpenAI.AuthenticationError);
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: '{"model": ',
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.ok('param' in body.error && 'code' in body.error);
});
