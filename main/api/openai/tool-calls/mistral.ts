// Mistral tool calls, after the [TOOL_CALLS] control token, in either of two shapes:
//   [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]      (v3 tokenizer)
//   [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}                              (v11+)

import { callSoFar, scanCallObject, skipWhitespace } from './call-object.js';
import { visibleContent } from './content.js';
import { scanJsonValue } from './partial-json.js';
import { MISTRAL_ARGS as ARGS, MISTRAL_MARKER as MARKER, MistralStream } from './mistral-stream.js';
import type { ParsedToolCall, ToolCallFormat } from './types.js';

export const mistralFormat: ToolCallFormat = {
  name: 'mistral',
  startStream: () => new MistralStream(),
  parse(text, isPartial) {
    const marker = text.indexOf(MARKER);
    if (marker < 0) return { content: visibleContent(text, isPartial, [MARKER]), reasoning: '', toolCalls: [] };
    const content = visibleContent(text.slice(0, marker), isPartial, []);
    const toolCalls: ParsedToolCall[] = [];
    const position = skipWhitespace(text, marker + MARKER.length);
    if (text[position] === '[') readArray(text, position + 1, isPartial, toolCalls);
    else readNamed(text, position, isPartial, toolCalls);
    return { content, reasoning: '', toolCalls };
  },
};

function readArray(text: string, position: number, isPartial: boolean, out: ParsedToolCall[]): void {
  for (;;) {
    position = skipWhitespace(text, position);
    if (position >= text.length || text[position] === ']') return;
    const call = scanCallObject(text, position);
    if (call.status === 'invalid') return;
    if (call.status === 'partial') {
      if (call.name !== undefined) out.push(callSoFar(call, call.name, isPartial));
      return;
    }
    out.push({ name: call.name, arguments: call.arguments });
    position = skipWhitespace(text, call.end);
    if (text[position] === ',') position++;
  }
}

function readNamed(text: string, position: number, isPartial: boolean, out: ParsedToolCall[]): void {
  while (position < text.length) {
    const args = text.indexOf(ARGS, position);
    if (args < 0) return; // the name is still being written
    const name = text.slice(position, args).trim();
    const start = args + ARGS.length;
    const value = scanJsonValue(text, start);
    if (value.status === 'invalid') return;
    if (value.status === 'partial') {
      out.push(callSoFar({ arguments: text.slice(start).trimStart(), argumentsCloser: value.closer, argumentsAreString: false }, name, isPartial));
      return;
    }
    out.push({ name, arguments: text.slice(start, value.end).trim() });
    position = skipWhitespace(text, value.end);
    if (text.startsWith(MARKER, position)) position = skipWhitespace(text, position + MARKER.length);
  }
}
