import test from 'node:test';
import assert from 'node:assert/strict';
import { MessageStream, parseModelOutput, toolCallFormatFor, type MessageDelta, type ParseOptions } from './index.js';
import { hermesFormat } from './hermes.js';
import { llama3JsonFormat } from './llama3-json.js';
import { mistralFormat } from './mistral.js';

interface Case {
  readonly title: string;
  readonly options: ParseOptions;
  readonly text: string;
  readonly content: string;
  readonly reasoning?: string;
  readonly calls: readonly { name: string; arguments: unknown }[];
}

const hermes: ParseOptions = { format: hermesFormat, reasoning: true };
const llama3: ParseOptions = { format: llama3JsonFormat, reasoning: false };
const mistral: ParseOptions = { format: mistralFormat, reasoning: false };

// Outputs in the shapes the model families really write.
const CASES: readonly Case[] = [
  {
    title: 'qwen3: thinking, then one call',
    options: hermes,
    text: '<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>',
    reasoning: 'The user wants the weather.',
    content: '',
    calls: [{ name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } }],
  },
  {
    title: 'hermes: text before two parallel calls',
    options: hermes,
    text: 'Let me check both.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {"zone": "Europe/Paris", "nested": {"a": [1, 2.5, -3e2, true, null], "s": "q\\"uote \\u00e9 <tool_call>"}}}\n</tool_call>',
    content: 'Let me check both.',
    calls: [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_time', arguments: { zone: 'Europe/Paris', nested: { a: [1, 2.5, -300, true, null], s: 'q"uote é <tool_call>' } } },
    ],
  },
  {
    title: 'hermes: plain answer with a lone "<" that is not markup',
    options: hermes,
    text: 'Use a < b and <b>bold</b> here.',
    content: 'Use a < b and <b>bold</b> here.',
    calls: [],
  },
  {
    title: 'hermes: arguments written as a JSON string',
    options: hermes,
    text: '<tool_call>\n{"name": "f", "arguments": "{\\"x\\": 1}"}\n</tool_call>',
    content: '',
    calls: [{ name: 'f', arguments: { x: 1 } }],
  },
  {
    title: 'hermes: call cut off by max_tokens is healed',
    options: hermes,
    text: '<tool_call>\n{"name": "search", "arguments": {"query": "tessera clus',
    content: '',
    calls: [{ name: 'search', arguments: { query: 'tessera clus' } }],
  },
  {
    title: 'hermes: broken markup stays text',
    options: hermes,
    text: 'See <tool_call> tag docs.',
    content: 'See <tool_call> tag docs.',
    calls: [],
  },
  {
    title: 'llama 3.1: JSON call',
    options: llama3,
    text: '{"name": "get_weather", "parameters": {"city": "San Francisco, CA"}}',
    content: '',
    calls: [{ name: 'get_weather', arguments: { city: 'San Francisco, CA' } }],
  },
  {
    title: 'llama 3.1: python tag and two calls',
    options: llama3,
    text: '<|python_tag|>{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"n": 2}}',
    content: '',
    calls: [
      { name: 'a', arguments: {} },
      { name: 'b', arguments: { n: 2 } },
    ],
  },
  {
    title: 'llama 3.1: plain text answer',
    options: llama3,
    text: 'The capital of France is Paris.',
    content: 'The capital of France is Paris.',
    calls: [],
  },
  {
    title: 'llama 3.1: JSON that is not a call is content',
    options: llama3,
    text: '{"answer": 42}',
    content: '{"answer": 42}',
    calls: [],
  },
  {
    title: 'mistral v3: array of calls after text',
    options: mistral,
    text: 'Sure.[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}]',
    content: 'Sure.',
    calls: [
      { name: 'get_weather', arguments: { city: 'Paris' } },
      { name: 'get_time', arguments: {} },
    ],
  },
  {
    title: 'mistral v11: name[ARGS]json',
    options: mistral,
    text: '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}',
    content: '',
    calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
  },
];

/** Streams `text` cut into pieces at the given boundaries and returns what a client would assemble. */
function stream(options: ParseOptions, text: string, cuts: readonly number[]) {
  let next = 0;
  const messages = new MessageStream(options, () => `call_${next++}`);
  const deltas: MessageDelta[] = [];
  let at = 0;
  for (const cut of cuts) {
    deltas.push(...messages.push(text.slice(at, cut)));
    at = cut;
  }
  const final = messages.finish(text.slice(at));
  deltas.push(...final.deltas);
  let content = '';
  let reasoning = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  for (const delta of deltas) {
    content += delta.content ?? '';
    reasoning += delta.reasoning ?? '';
    for (const call of delta.toolCalls ?? []) {
      if (call.id !== undefined) {
        assert.equal(call.index, calls.length, 'a new call takes the next index');
        assert.equal(call.type, 'function');
        assert.ok(call.function.name, 'the first delta names the function');
        calls.push({ id: call.id, name: call.function.name, arguments: call.function.arguments });
      } else {
        assert.equal(call.function.name, undefined, 'only the first delta of a call carries the name');
        calls[call.index]!.arguments += call.function.arguments;
      }
    }
  }
  return { content, reasoning, calls, final };
}

function assertCase(testCase: Case, result: ReturnType<typeof stream>): void {
  assert.equal(result.content, testCase.content);
  assert.equal(result.content, result.final.content);
  assert.equal(result.reasoning, testCase.reasoning ?? '');
  assert.deepEqual(
    result.calls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown })),
    testCase.calls,
  );
  assert.deepEqual(result.calls, result.final.toolCalls, 'streamed calls equal the final message');
}

for (const testCase of CASES) {
  test(`${testCase.title}: final parse`, () => {
    const message = parseModelOutput(testCase.text, false, testCase.options);
    assert.equal(message.content, testCase.content);
    assert.deepEqual(
      message.toolCalls.map((call) => ({ name: call.name, arguments: JSON.parse(call.arguments) as unknown })),
      testCase.calls,
    );
  });

  test(`${testCase.title}: streamed one character at a time`, () => {
    const cuts = Array.from({ length: testCase.text.length }, (_, i) => i + 1);
    assertCase(testCase, stream(testCase.options, testCase.text, cuts));
  });

  test(`${testCase.title}: every split into two chunks`, () => {
    for (let cut = 0; cut <= testCase.text.length; cut++) assertCase(testCase, stream(testCase.options, testCase.text, [cut]));
  });

  test(`${testCase.title}: no markup ever reaches content while streaming`, () => {
    const messages = new MessageStream(testCase.options, () => 'call_x');
    let content = '';
    for (let cut = 1; cut <= testCase.text.length; cut++) {
      for (const delta of messages.push(testCase.text.slice(cut - 1, cut))) content += delta.content ?? '';
      if (testCase.calls.length > 0 || testCase.reasoning) {
        for (const marker of ['<tool_call', '</tool_call', '[TOOL_CALLS', '<think', '</think', '<|python_tag', '{"name"']) {
          assert.ok(!content.includes(marker), `content "${content}" leaks ${marker}`);
        }
      }
    }
  });
}

test('format selection follows the chat template', () => {
  assert.equal(toolCallFormatFor('… <tool_call> …', 'qwen3').name, 'hermes');
  assert.equal(toolCallFormatFor('[AVAILABLE_TOOLS] [TOOL_CALLS]', 'llama').name, 'mistral');
  assert.equal(toolCallFormatFor('<|start_header_id|>…', 'llama').name, 'llama3-json');
});
