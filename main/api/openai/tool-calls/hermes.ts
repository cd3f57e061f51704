// Hermes / Qwen tool calls: each call is a JSON object inside <tool_call>…</tool_call>.
//   Let me check.<tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>

import { callSoFar, scanCallObject, skipWhitespace } from './call-object.js';
import { visibleContent } from './content.js';
import { HERMES_CLOSE as CLOSE, HERMES_OPEN as OPEN, HermesStream } from './hermes-stream.js';
import type { ParsedToolCall, ToolCallFormat } from './types.js';

export const hermesFormat: ToolCallFormat = {
  name: 'hermes',
  startStream: () => new HermesStream(),
  parse(text, isPartial) {
    let content = '';
    const toolCalls: ParsedToolCall[] = [];
    let position = 0;
    for (;;) {
      const open = text.indexOf(OPEN, position);
      if (open < 0) {
        content += text.slice(position);
        return { content: visibleContent(content, isPartial, toolCalls.length === 0 ? [OPEN] : [OPEN, CLOSE]), reasoning: '', toolCalls };
      }
      content += text.slice(position, open);
      const call = scanCallObject(text, open + OPEN.length);
      if (call.status === 'invalid') {
        // Not a call after all: the markup is the model's own text.
        content += text.slice(open);
        return { content: visibleContent(content, isPartial, []), reasoning: '', toolCalls };
      }
      if (call.status === 'partial') {
        if (call.name !== undefined) {
          toolCalls.push(callSoFar(call, call.name, isPartial));
        }
        return { content: visibleContent(content, isPartial, []), reasoning: '', toolCalls };
      }
      toolCalls.push({ name: call.name, arguments: call.arguments });
      position = skipWhitespace(text, call.end);
      if (text.startsWith(CLOSE, position)) {
        position += CLOSE.length;
      } else if (isPartial && CLOSE.startsWith(text.slice(position))) {
        // The closing tag is still being written.
        return { content: visibleContent(content, isPartial, []), reasoning: '', toolCalls };
      }
      // Otherwise a call without its closing tag: accept it and read on.
    }
  },
};
