// Test-only reference: the original, whole-text MessageStream. The incremental MessageStream
// must give exactly the same deltas and final message for every way a text is cut into pieces.

import { parseModelOutput, type IdentifiedToolCall, type MessageDelta, type ParseOptions } from './message-parser.js';
import type { ParsedMessage } from './types.js';

/**
 * The whole-text algorithm MessageStream replaced, kept for tests to compare with: every token
 * re-parses the whole text so far and diffs the parse with what was sent (quadratic in the length).
 * Feed the whole text so far after each token, get the deltas to send.
 * `finish` parses the final text and returns the last deltas and the final message; the
 * concatenation of all deltas equals the final message, field by field.
 */
export class ReferenceMessageStream {
  private sent: ParsedMessage = { content: '', reasoning: '', toolCalls: [] };
  private readonly ids: string[] = [];

  constructor(
    private readonly options: ParseOptions,
    private readonly newCallId: () => string,
  ) {}

  push(text: string): MessageDelta[] {
    return this.advance(parseModelOutput(text, true, this.options));
  }

  finish(text: string): { deltas: MessageDelta[]; content: string; reasoning: string; toolCalls: IdentifiedToolCall[] } {
    const deltas = this.advance(parseModelOutput(text, false, this.options));
    const toolCalls = this.sent.toolCalls.map((call, index) => ({ id: this.ids[index]!, name: call.name, arguments: call.arguments }));
    return { deltas, content: this.sent.content, reasoning: this.sent.reasoning, toolCalls };
  }

  private advance(next: ParsedMessage): MessageDelta[] {
    const deltas: MessageDelta[] = [];
    const reasoning = grownBy(this.sent.reasoning, next.reasoning);
    if (reasoning) deltas.push({ reasoning });
    const content = grownBy(this.sent.content, next.content);
    if (content) deltas.push({ content });

    const calls = [...this.sent.toolCalls];
    next.toolCalls.forEach((call, index) => {
      const previous = calls[index];
      if (previous === undefined) {
        const id = this.newCallId();
        this.ids.push(id);
        calls.push(call);
        deltas.push({ toolCalls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] });
        if (call.arguments !== '') deltas.push({ toolCalls: [{ index, function: { arguments: call.arguments } }] });
        return;
      }
      const fragment = grownBy(previous.arguments, call.arguments);
      if (fragment) {
        calls[index] = call;
        deltas.push({ toolCalls: [{ index, function: { arguments: fragment } }] });
      }
    });
    this.sent = {
      content: this.sent.content + (content ?? ''),
      reasoning: this.sent.reasoning + (reasoning ?? ''),
      toolCalls: calls,
    };
    return deltas;
  }
}

/**
 * The text `next` adds to `sent`. Parses only ever extend what was sent; should a later parse
 * disagree (the model's text turned out not to be markup after all), what was sent stands
 * and only a clean extension is passed on.
 */
function grownBy(sent: string, next: string): string | undefined {
  if (next.length <= sent.length || !next.startsWith(sent)) return undefined;
  return next.slice(sent.length);
}
