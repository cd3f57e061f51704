// The incremental MessageStream against the whole-text algorithm it replaced: for model-like
// outputs (tool calls of every family, thinking blocks, cut-off and broken markup, unicode) cut
// into pieces at random points, both must give exactly the same deltas and the same final
// message. And the incremental one must cost the same per token at the end of a long answer
// as at its start.

import test from 'node:test';
import assert from 'node:assert/strict';
import { hermesFormat } from './hermes.js';
import { llama3JsonFormat } from './llama3-json.js';
import { MessageStream, type MessageDelta, type ParseOptions } from './message-parser.js';
import { mistralFormat } from './mistral.js';
import { plainFormat } from './plain.js';
import { ReferenceMessageStream } from './reference-message-stream.fixture.js';
import { createRandom } from '../../../engine/sampling/random.js';

/** Deterministic uniform [0, 1) numbers (the sampler's mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  const source = createRandom(seed);
  return () => source.next();
}

const ALL_OPTIONS: readonly { readonly title: string; readonly options: ParseOptions }[] = [
  { title: 'hermes+think', options: { format: hermesFormat, reasoning: true } },
  { title: 'hermes', options: { format: hermesFormat, reasoning: false } },
  { title: 'llama3', options: { format: llama3JsonFormat, reasoning: false } },
  { title: 'llama3+think', options: { format: llama3JsonFormat, reasoning: true } },
  { title: 'mistral', options: { format: mistralFormat, reasoning: false } },
  { title: 'mistral+think', options: { format: mistralFormat, reasoning: true } },
  { title: 'plain', options: { format: plainFormat, reasoning: false } },
  { title: 'plain+think', options: { format: plainFormat, reasoning: true } },
];

const PROSE = [
  'Let me check the weather for you. ',
  'Ünïcødé 😀 — 中文テキスト, ',
  'a < b and <b>bold</b> ',
  '  \n\n',
  '\u00a0\u2028 ',
  '[x] {not json} ',
  'Sure.',
  ' ',
  '\t',
  '𝔘𝔫𝔦',
];
const ARGUMENTS = [
  '{"city": "Paris 😀", "unit": "celsius"}',
  '{}',
  '{"n": [1, 2.5, -3e2, true, null], "s": "q\\"uote \\u00e9 <tool_call> [ARGS]"}',
  '{"nested": {"deep": [{"a": "b"}, []]}, "text": "line\\nbreak"}',
  '"{\\"x\\": 1}"',
  '12',
  '{"n": 01}',
  '{"m": 1.}',
  '{"m": [1.5, -0.25e+3, 7E2]}',
  '{"x": -}',
  '{"y": 1e+}',
  '{"a": tru}',
  '{"b": nul}',
  '{"esc": "\\u12g \\x"}',
  '{"short": "\\u123", "ok": "\\u00e9"}',
  '{"raw": "line\nbreak"}',
  '{"list": [1, 2,, ]}',
  '[1, "two", {"three": 3e-2}]',
  'null',
  '"plain string"',
  '{"arguments": {"dup": 1}, "arguments": {"dup": 2}}',
  '{"code": "def f(x):\\n    return x * 2\\n\\n# 😀 \\ud83d\\ude00 \\"quoted\\" \\/ \\b\\f\\r\\t", "size": 123.45e-6, "ok": false}',
];
const NAMES = ['get_weather', 'get_time', 'search'];
/** Broken or odd pieces a model (or a cut) may produce. */
const ODDITIES = [
  '<tool_c',
  '</tool_call>',
  '<tool_call>',
  '<tool_call>not json',
  '<tool_call>{"foo": 1}',
  '<tool_call>{"name": 5}',
  '{"name": "f", "arguments": {"a": tru3}}',
  '[TOOL_CALLS]',
  '[TOOL_CA',
  '[ARGS]',
  '<think>',
  '</think>',
  '</thi',
  '<|python_tag|>',
  '<|pyth',
  '{',
  '}',
  ';',
  ',',
  ']',
  '{"answer": 42}',
  '<tool_call>{"name": {"a": 1}, "arguments": {}}</tool_call>',
  '<tool_call>{"arguments": {"q": 1}}</tool_call>',
  '<tool_call>{"name": "f", "arguments": {"q": "unterminated',
  '{"name": "g", "parameters": {"a": [1, {"b": null}]}} ; ',
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function callObject(next: () => number): string {
  const name = JSON.stringify(pick(next, NAMES));
  const args = pick(next, ARGUMENTS);
  const key = next() < 0.2 ? 'parameters' : 'arguments';
  return next() < 0.15 ? `{"${key}": ${args}, "name": ${name}}` : `{"name": ${name}, "${key}": ${args}}`;
}

/** One model-like output: prose, calls in the families' shapes, thinking, oddities, unicode. */
function output(next: () => number): string {
  let text = next() < 0.4 ? `${next() < 0.3 ? '\n ' : ''}<think>\n${pick(next, PROSE)}${pick(next, PROSE)}\n</think>\n\n` : '';
  const segments = 1 + Math.floor(next() * 5);
  for (let i = 0; i < segments; i++) {
    const roll = next();
    if (roll < 0.25) text += pick(next, PROSE);
    else if (roll < 0.45) text += `<tool_call>\n${callObject(next)}\n</tool_call>${next() < 0.5 ? '\n' : ''}`;
    else if (roll < 0.55) text += `${next() < 0.5 ? '<|python_tag|>' : ''}${callObject(next)}${next() < 0.5 ? '; ' : '\n'}`;
    else if (roll < 0.65) text += `[TOOL_CALLS] [${callObject(next)}, ${callObject(next)}]`;
    else if (roll < 0.75) text += `[TOOL_CALLS]${pick(next, NAMES)}[ARGS]${pick(next, ARGUMENTS)}`;
    else text += pick(next, ODDITIES);
  }
  // Generation may stop anywhere (max_tokens, a stop sequence).
  if (next() < 0.4) text = text.slice(0, Math.floor(next() * (text.length + 1)));
  return text;
}

/** Sorted cut points: some texts one character at a time, most in token-like pieces of 1 to 8. */
function cuts(next: () => number, length: number): number[] {
  const points: number[] = [];
  const oneByOne = next() < 0.2;
  for (let at = 0; at < length; ) {
    at = Math.min(length, at + (oneByOne ? 1 : 1 + Math.floor(next() * 8)));
    points.push(at);
  }
  // A piece may also be empty, or the last cut may leave text for finish.
  if (points.length > 0 && next() < 0.3) points.pop();
  return points;
}

interface Transcript {
  readonly pushes: MessageDelta[][];
  readonly final: ReturnType<MessageStream['finish']>;
}

function incremental(options: ParseOptions, text: string, points: readonly number[]): Transcript {
  let id = 0;
  const stream = new MessageStream(options, () => `call_${id++}`);
  const pushes: MessageDelta[][] = [];
  let at = 0;
  for (const point of points) {
    pushes.push(stream.push(text.slice(at, point)));
    at = point;
  }
  return { pushes, final: stream.finish(text.slice(at)) };
}

function reference(options: ParseOptions, text: string, points: readonly number[]): Transcript {
  let id = 0;
  const stream = new ReferenceMessageStream(options, () => `call_${id++}`);
  return { pushes: points.map((point) => stream.push(text.slice(0, point))), final: stream.finish(text) };
}

test('incremental and whole-text streams agree on random outputs cut at random points', () => {
  const next = random(20261125);
  let compared = 0;
  for (let sample = 0; sample < 300; sample++) {
    const text = output(next);
    for (const { title, options } of ALL_OPTIONS) {
      for (let split = 0; split < 3; split++) {
        const points = cuts(next, text.length);
        const expected = reference(options, text, points);
        const actual = incremental(options, text, points);
        assert.deepEqual(actual, expected, `${title}, sample ${sample}, cuts ${JSON.stringify(points)}:\n${JSON.stringify(text)}`);
        compared++;
      }
    }
  }
  assert.equal(compared, 300 * ALL_OPTIONS.length * 3);
});

test('incremental and whole-text streams agree at every single cut of hand-written outputs', () => {
  const texts = [
    '<think>\nThe user wants the weather.\n</think>\n\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    'Let me check both.\n<tool_call>\n{"name": "a", "arguments": {}}\n</tool_call>\n<tool_call>\n{"name": "b", "arguments": "{\\"x\\": 1}"}\n</tool_call>\nDone.',
    '<tool_c<tool_call>{"name": "a", "arguments": {}}</tool_call>_call more',
    'text   \n  <tool_call>{"name": "a", "arguments": {"q": "cut',
    '<|python_tag|>{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"n": 2}} trailing',
    '  {"name": "a", "parameters": {"x": 1}};;{"name": "b"}',
    'Sure.[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {}}] after',
    '[TOOL_CALLS]get_weather[ARGS]{"city": "Paris"} [TOOL_CALLS]  get_time [ARGS] {"zone": "UTC"}  [TOOL_x[ARGS]{}',
    '  \n <think> thinking </thi </think> then </think> answer 😀\u00a0 ',
  ];
  for (const text of texts) {
    for (const { title, options } of ALL_OPTIONS) {
      for (let cut = 0; cut <= text.length; cut++) {
        const points = [cut, text.length];
        assert.deepEqual(incremental(options, text, points), reference(options, text, points), `${title} cut ${cut}: ${JSON.stringify(text)}`);
      }
      const oneByOne = Array.from({ length: text.length }, (_, i) => i + 1);
      assert.deepEqual(incremental(options, text, oneByOne), reference(options, text, oneByOne), `${title} one by one: ${JSON.stringify(text)}`);
    }
  }
});

/**
 * CPU milliseconds spent pushing tokens [from, to) of `tokens` into `stream`: CPU time, not wall
 * time, so that other work on a shared machine does not count (the test runs on one thread).
 */
function timePushes(stream: MessageStream, tokens: readonly string[], from: number, to: number): number {
  const started = process.cpuUsage();
  for (let i = from; i < to; i++) stream.push(tokens[i]!);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

test('20 000 tokens of answer text or of one tool argument cost per token at the end what they cost at the start', () => {
  const next = random(7);
  const words = ['the ', 'keeper ', 'lit ', 'lamp, ', 'and ', 'waves ', 'broke ', 'on ', 'rocks. ', '\n\n', 'é ', '😀 ', '< ', '[ '];
  const tokens = Array.from({ length: 20_000 }, () => pick(next, words));
  const thinking = ['<think>\n', ...tokens.slice(0, 10_000), '</think>\n\n', ...tokens.slice(10_000)];
  // A file an agent writes through a tool: one long JSON string argument.
  const escaped = tokens.map((token) => JSON.stringify(token).slice(1, -1));
  const hermesFile = ['<tool_call>\n{"name": "write_file", "arguments": {"path": "a.txt", "content": "', ...escaped, '"}}\n</tool_call>'];
  const mistralFile = ['[TOOL_CALLS]write_file[ARGS]{"path": "a.txt", "content": "', ...escaped, '"}'];
  const llamaFile = ['<|python_tag|>{"name": "write_file", "parameters": {"content": "', ...escaped, '"}}'];
  for (const { title, options, input } of [
    { title: 'hermes with thinking', options: ALL_OPTIONS[0]!.options, input: thinking },
    { title: 'hermes', options: ALL_OPTIONS[1]!.options, input: tokens },
    { title: 'llama3', options: ALL_OPTIONS[2]!.options, input: tokens },
    { title: 'mistral', options: ALL_OPTIONS[4]!.options, input: tokens },
    { title: 'plain', options: ALL_OPTIONS[6]!.options, input: tokens },
    { title: 'hermes tool call with a long argument', options: ALL_OPTIONS[0]!.options, input: hermesFile },
    { title: 'mistral tool call with a long argument', options: ALL_OPTIONS[4]!.options, input: mistralFile },
    { title: 'llama3 tool call with a long argument', options: ALL_OPTIONS[2]!.options, input: llamaFile },
  ]) {
    // Best of three runs, each block measured after a warm-up stream, so a busy machine does not decide.
    let first = Infinity;
    let last = Infinity;
    for (let run = 0; run < 3; run++) {
      const stream = new MessageStream(options, () => 'call');
      first = Math.min(first, timePushes(stream, input, 0, 1000));
      timePushes(stream, input, 1000, input.length - 1000);
      last = Math.min(last, timePushes(stream, input, input.length - 1000, input.length));
      const final = stream.finish('');
      assert.equal(final.toolCalls.length, title.includes('tool call') ? 1 : 0, title);
    }
    // The whole-text algorithm is ~20× slower per token at the end of such an answer than at its start.
    assert.ok(last < first * 4 + 2, `${title}: last 1000 tokens ${last.toFixed(2)} ms, first 1000 ${first.toFixed(2)} ms`);
  }
});
