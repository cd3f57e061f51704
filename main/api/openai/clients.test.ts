// The OpenAI API through the other clients people point at local servers: the Vercel AI SDK
// and LangChain, against the real server and engine.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool, type JSONSchema7 } from 'ai';
import { ChatOpenAI } from '@langchain/openai';
import { startTestApiServer, type TestApiServer } from './test-server.fixture.js';

let server: TestApiServer;

before(async () => {
  server = await startTestApiServer();
});

after(async () => {
  await server?.close();
});

const weatherParameters: JSONSchema7 = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
};

function provider() {
  return createOpenAICompatible({ name: 'tessera', baseURL: server.baseURL, apiKey: 'unused', includeUsage: true });
}

test('AI SDK generateText: a tool loop of two steps with tool results fed back', async () => {
  const cities: string[] = [];
  const result = await generateText({
    model: provider().chatModel('qwen3-tiny'),
    prompt: 'What is the weather in Lisbon?',
    tools: {
      get_weather: tool({
        description: 'Current weather for a city',
        inputSchema: jsonSchema<{ city: string; unit: string }>(weatherParameters),
        execute: async ({ city }) => {
          cities.push(city);
          return { temperature: 19 };
        },
      }),
    },
    toolChoice: 'required',
    stopWhen: stepCountIs(2),
    maxOutputTokens: 80,
    seed: 2,
  });
  assert.equal(result.steps.length, 2);
  assert.equal(cities.length, 2, 'the tool ran in each step');
  for (const step of result.steps) {
    assert.equal(step.finishReason, 'tool-calls');
    assert.equal(step.toolCalls[0]?.toolName, 'get_weather');
  }
});

test('AI SDK streamText: tool call parts stream and parse', async () => {
  const result = streamText({
    model: provider().chatModel('qwen3-tiny'),
    prompt: 'Weather in Kyoto?',
    tools: { get_weather: tool({ description: 'Current weather', inputSchema: jsonSchema(weatherParameters) }) },
    toolChoice: { type: 'tool', toolName: 'get_weather' },
    maxOutputTokens: 80,
    seed: 4,
  });
  const kinds = new Set<string>();
  for await (const part of result.fullStream) kinds.add(part.type);
  const calls = await result.toolCalls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.toolName, 'get_weather');
  const input = calls[0]!.input as { city: unknown; unit: unknown };
  assert.equal(typeof input.city, 'string');
  assert.ok(kinds.has('tool-input-delta'), `tool input streamed in parts (saw ${[...kinds].join(', ')})`);
  assert.equal(await result.finishReason, 'tool-calls');
});

function langchain(): ChatOpenAI {
  return new ChatOpenAI({ model: 'qwen3-tiny', apiKey: 'unused', configuration: { baseURL: server.baseURL }, maxTokens: 80, maxRetries: 0 });
}

test('LangChain bindTools: the call comes back as tool_calls with parsed args', async () => {
  const model = langchain().bindTools(
    [{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: weatherParameters } }],
    { tool_choice: 'required' },
  );
  const message = await model.invoke('Weather in Oslo?');
  assert.equal(message.tool_calls?.length, 1);
  const call = message.tool_calls![0]!;
  assert.equal(call.name, 'get_weather');
  assert.equal(typeof call.args.city, 'string');
  assert.ok(call.args.unit === 'celsius' || call.args.unit === 'fahrenheit');
});

test('LangChain withStructuredOutput: a JSON schema answer', async () => {
  const structured = langchain().withStructuredOutput(
    { title: 'person', type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false },
    { method: 'jsonSchema', strict: true },
  );
  const person = (await structured.invoke('Describe a person.')) as { name: unknown; age: unknown };
  assert.equal(typeof person.name, 'string');
  assert.ok(Number.isInteger(person.age));
});
