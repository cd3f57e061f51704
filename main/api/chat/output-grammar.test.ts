import test from 'node:test';
import assert from 'node:assert/strict';
import { GrammarMatcher } from '../../engine/sampling/grammar/matcher.js';
import { parseModelOutput, toolCallFormatFor } from '../openai/tool-calls/index.js';
import { hermesFormat } from '../openai/tool-calls/hermes.js';
import { llama3JsonFormat } from '../openai/tool-calls/llama3-json.js';
import { mistralFormat } from '../openai/tool-calls/mistral.js';
import { toolCallGrammar } from './output-grammar.js';
import type { ToolDefinition } from './request.js';

const tools: ToolDefinition[] = [
  {
    name: 'get_weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    strict: true,
  },
  {
    name: 'tree',
    parameters: { type: 'object', properties: { node: { $ref: '#/$defs/node' } }, required: ['node'], $defs: { node: { type: 'object', properties: { next: { $ref: '#/$defs/node' } } } } },
    strict: true,
  },
];

// The grammar of each format accepts exactly what that format's parser reads back as calls.
for (const format of [hermesFormat, llama3JsonFormat, mistralFormat]) {
  test(`${format.name}: forced calls parse back to the same calls`, () => {
    const matcher = new GrammarMatcher(toolCallGrammar(format.name, tools, true));
    const argumentsKey = format.name === 'llama3-json' ? 'parameters' : 'arguments';
    const one = (name: string, args: string) => `{"name": "${name}", "${argumentsKey}": ${args}}`;
    const calls = [one('get_weather', '{"city": "Oslo"}'), one('tree', '{"node": {"next": {}}}')];
    const text =
      format.name === 'hermes'
        ? calls.map((call) => `<tool_call>\n${call}\n</tool_call>`).join('\n')
        : format.name === 'mistral'
          ? `[TOOL_CALLS][${calls.join(', ')}]`
          : calls.join('; ');
    assert.ok(matcher.canEnd(matcher.advanceText(matcher.initial(), text)), text);
    const parsed = parseModelOutput(text, false, { format, reasoning: false });
    assert.deepEqual(parsed.toolCalls.map((call) => [call.name, JSON.parse(call.arguments)]), [
      ['get_weather', { city: 'Oslo' }],
      ['tree', { node: { next: {} } }],
    ]);
    assert.equal(parsed.content, '');
  });
}

test('a single forced call allows no second one', () => {
  const matcher = new GrammarMatcher(toolCallGrammar('hermes', tools, false));
  const call = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "x"}}\n</tool_call>';
  const state = matcher.advanceText(matcher.initial(), call);
  assert.ok(matcher.mustEnd(state));
  assert.equal(toolCallFormatFor('<tool_call>', 'qwen3'), hermesFormat);
});
