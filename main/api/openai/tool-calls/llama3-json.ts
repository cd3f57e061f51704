// Llama 3.x tool calls: the whole answer is one JSON object per call, optionally after
// <|python_tag|>, several calls separated by ';' or newlines.
//   {"name": "get_weather", "parameters": {"city": "Paris"}}

import { callSoFar, scanCallObject, skipWhitespace } from './call-object.js';
import { visibleContent } from './content.js';
import { Llama3JsonStream, PYTHON_TAG } from './llama3-json-stream.js';
import type { ParsedMessage, ParsedToolCall, ToolCallFormat } from './types.js';

const NOTHING_YET: ParsedMessage = { content: '', reasoning: '', toolCalls: [] };

export const llama3JsonFormat: ToolCallFormat = {
  name: 'llama3-json',
  startStream: () => new Llama3JsonStream(),
  parse(text, isPartial) {
    const trimmed = text.trimStart();
    let body = trimmed;
    if (trimmed.startsWith(PYTHON_TAG)) body = trimmed.slice(PYTHON_TAG.length);
    else if (isPartial && PYTHON_TAG.startsWith(trimmed)) return NOTHING_YET;

    const asContent = (): ParsedMessage => ({ content: visibleContent(text, isPartial, []), reasoning: '', toolCalls: [] });
    const toolCalls: ParsedToolCall[] = [];
    let position = skipWhitespace(body, 0);
    if (position >= body.length) return isPartial ? NOTHING_YET : asContent();
    if (body[position] !== '{') return asContent();

    while (position < body.length) {
      const call = scanCallObject(body, position);
      if (call.status === 'invalid') return toolCalls.length === 0 ? asContent() : { content: '', reasoning: '', toolCalls };
      if (call.status === 'partial') {
        if (call.name === undefined) {
          if (!isPartial && toolCalls.length === 0) return asContent();
        } else {
          toolCalls.push(callSoFar(call, call.name, isPartial));
        }
        break;
      }
      toolCalls.push({ name: call.name, arguments: call.arguments });
      position = skipWhitespace(body, call.end);
      if (body[position] === ';') position = skipWhitespace(body, position + 1);
      if (position < body.length && body[position] !== '{') break; // trailing text after the calls is dropped
    }
    return { content: '', reasoning: '', toolCalls };
  },
};
