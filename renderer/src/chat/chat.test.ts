import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChunk, emptyDraft } from './assistant-draft.js';
import { calculate } from './calculator.js';
import { loadConversations, newConversation, requestBody, saveConversations, unansweredToolCalls } from './conversations.js';
import { demoAnswer } from './demo-tools.js';
import { SseDecoder } from './sse.js';

test('SSE events come out whole, however the bytes were cut', () => {
  const decoder = new SseDecoder();
  assert.deepEqual(decoder.push('data: {"a"'), []);
  assert.deepEqual(decoder.push(':1}\n\ndata: [DONE]\r\n\r\n: comment\n\n'), ['{"a":1}', '[DONE]']);
});

test('tool calls are assembled by index from streamed pieces', () => {
  let draft = emptyDraft();
  const chunks = [
    { choices: [{ delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', function: { name: 'get_', arguments: '' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'weather', arguments: '{"city":' } }] } }] },
    { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }, finish_reason: 'tool_calls' }] },
    { choices: [], usage: { prompt_tokens: 9, completion_tokens: 7 } },
  ];
  const changes = chunks.map((chunk) => {
    const applied = applyChunk(draft, chunk);
    draft = applied.draft;
    return applied.changed;
  });
  assert.deepEqual(changes, [true, true, true, false]);
  assert.deepEqual(draft.toolCalls, [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
  assert.equal(draft.finishReason, 'tool_calls');
  assert.deepEqual(draft.usage, { promptTokens: 9, completionTokens: 7 });
});

test('the calculator follows precedence and refuses nonsense', () => {
  assert.equal(calculate('1 + 2 * 3'), 7);
  assert.equal(calculate('(1 + 2) * -3'), -9);
  assert.equal(calculate('2 ^ 3 ^ 2'), 512);
  assert.equal(calculate('10 % 4 / 2'), 1);
  assert.throws(() => calculate('2 +'), /unexpected end/);
  assert.throws(() => calculate('alert(1)'), /unexpected/);
  assert.deepEqual(JSON.parse(demoAnswer('calculator', '{"expression":"6*7"}')), { result: 42 });
  assert.equal(JSON.parse(demoAnswer('get_weather', '{"city":"Oslo"}')).city, 'Oslo');
  assert.match(demoAnswer('get_weather', 'not json'), /not valid JSON/);
});

test('conversations round-trip through storage and become request bodies', () => {
  const conversation = newConversation('tiny');
  conversation.tools[0]!.enabled = true;
  conversation.toolChoice = 'required';
  conversation.messages = [
    { role: 'user', content: 'weather?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'get_weather', arguments: '{}' } }, { id: 'b', type: 'function', function: { name: 'calculator', arguments: '{}' } }], stats: { timeToFirstTokenMs: 1, tokensPerSecond: 2, completionTokens: 3, finishReason: 'tool_calls' } },
    { role: 'tool', tool_call_id: 'a', name: 'get_weather', content: '{}' },
  ];
  assert.deepEqual(unansweredToolCalls(conversation.messages).map((call) => call.id), ['b']);
  const body = requestBody(conversation);
  assert.equal(body.tool_choice, 'required');
  assert.equal((body.tools as unknown[]).length, 1);
  const messages = body.messages as Array<Record<string, unknown>>;
  assert.equal(messages[0]!.role, 'system');
  assert.equal('stats' in messages[2]!, false, 'UI-only figures are not sent');
  conversation.toolChoice = 'get_weather';
  assert.deepEqual(requestBody(conversation).tool_choice, { type: 'function', function: { name: 'get_weather' } });

  const store = new Map<string, string>();
  const storage = { getItem: (key: string) => store.get(key) ?? null, setItem: (key: string, value: string) => void store.set(key, value) };
  saveConversations(storage, [conversation]);
  assert.deepEqual(loadConversations(storage), [conversation]);
  store.set([...store.keys()][0]!, '{broken');
  assert.deepEqual(loadConversations(storage), []);
});
