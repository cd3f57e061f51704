// One parser for the stream and the final message: reasoning block first, then the family's
// tool-call format over the rest. Successive parses become OpenAI-style deltas.

import { splitReasoning } from './reasoning.js';
import { ReasoningStream, type ReasoningStep } from './reasoning-stream.js';
import type { ParsedMessage, ParsedToolCall, ToolCallFormat } from './types.js';

export interface ParseOptions {
  readonly format: ToolCallFormat;
  /** The template has a thinking block (`<think>`): split it into `reasoning`. */
  readonly reasoning: boolean;
}

export function parseModelOutput(text: string, isPartial: boolean, options: ParseOptions): ParsedMessage {
  if (!options.reasoning) return options.format.parse(text, isPartial);
  const split = splitReasoning(text, isPartial);
  if (split.undecided) return { content: '', reasoning: split.reasoning, toolCalls: [] };
  const message = options.format.parse(split.rest, isPartial);
  return { ...message, reasoning: split.reasoning };
}

export interface ToolCallDelta {
  readonly index: number;
  /** Only in the first delta of a call. */
  readonly id?: string;
  readonly type?: 'function';
  readonly function: { readonly name?: string; readonly arguments: string };
}

export interface MessageDelta {
  readonly content?: string;
  readonly reasoning?: string;
  readonly toolCalls?: readonly ToolCallDelta[];
}

/** A tool call with the id the client knows it by. */
export interface IdentifiedToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/**
 * Follows a generation: feed each piece of text as it is generated, get the deltas to send.
 * `finish` parses the whole text once more, as final, and returns the last deltas and the final
 * message; the concatenation of all deltas equals the final message, field by field.
 *
 * Each piece costs work in proportion to its length (plus a bounded look-back, and the call
 * object being written), not to the text so far: the deltas are those of diffing successive
 * whole-text partial parses (see reference-message-stream.fixture.ts, which tests compare with).
 */
export class MessageStream {
  private readonly parse: { push(piece: string): ReasoningStep };
  /** The text so far, only appended to (a rope) until `finish` reads it. */
  private text = '';
  private sentContent = '';
  private sentReasoning = '';
  private readonly sentCalls: ParsedToolCall[] = [];
  /** Per call: whether its sent arguments equal those of the parser's last update for it. */
  private readonly sentIsLastUpdate: boolean[] = [];
  private readonly ids: string[] = [];

  constructor(
    private readonly options: ParseOptions,
    private readonly newCallId: () => string,
  ) {
    const answer = options.format.startStream();
    this.parse = options.reasoning ? new ReasoningStream(answer) : { push: (piece) => ({ reasoning: '', ...answer.push(piece) }) };
  }

  /** The next piece of generated text. */
  push(piece: string): MessageDelta[] {
    this.text += piece;
    const step = this.parse.push(piece);
    const deltas: MessageDelta[] = [];
    if (step.reasoning !== '') {
      this.sentReasoning += step.reasoning;
      deltas.push({ reasoning: step.reasoning });
    }
    if (step.content !== '') {
      this.sentContent += step.content;
      deltas.push({ content: step.content });
    }
    for (const { index, call, argumentsGrowth } of step.calls) this.advanceCall(index, call, deltas, argumentsGrowth);
    return deltas;
  }

  /** Ends the generation with its last piece of text (often ''). */
  finish(lastPiece: string): { deltas: MessageDelta[]; content: string; reasoning: string; toolCalls: IdentifiedToolCall[] } {
    const final = parseModelOutput(this.text + lastPiece, false, this.options);
    const deltas: MessageDelta[] = [];
    const reasoning = grownBy(this.sentReasoning, final.reasoning);
    if (reasoning) {
      this.sentReasoning += reasoning;
      deltas.push({ reasoning });
    }
    const content = grownBy(this.sentContent, final.content);
    if (content) {
      this.sentContent += content;
      deltas.push({ content });
    }
    final.toolCalls.forEach((call, index) => this.advanceCall(index, call, deltas));
    const toolCalls = this.sentCalls.map((call, index) => ({ id: this.ids[index]!, name: call.name, arguments: call.arguments }));
    return { deltas, content: this.sentContent, reasoning: this.sentReasoning, toolCalls };
  }

  /** A call of the latest parse: new (an id, its name, its arguments so far) or grown. */
  private advanceCall(index: number, call: ParsedToolCall, deltas: MessageDelta[], argumentsGrowth?: string): void {
    const previous = this.sentCalls[index];
    if (previous === undefined) {
      const id = this.newCallId();
      this.ids.push(id);
      this.sentCalls.push(call);
      this.sentIsLastUpdate.push(true);
      deltas.push({ toolCalls: [{ index, id, type: 'function', function: { name: call.name, arguments: '' } }] });
      if (call.arguments !== '') deltas.push({ toolCalls: [{ index, function: { arguments: call.arguments } }] });
      return;
    }
    // What was sent is the last update, which this one extends: the growth is the fragment.
    const fragment = argumentsGrowth !== undefined && this.sentIsLastUpdate[index] ? argumentsGrowth || undefined : grownBy(previous.arguments, call.arguments);
    if (fragment) {
      this.sentCalls[index] = call;
      deltas.push({ toolCalls: [{ index, function: { arguments: fragment } }] });
    }
    this.sentIsLastUpdate[index] = fragment !== undefined || (argumentsGrowth !== undefined && this.sentIsLastUpdate[index]!) || previous.arguments === call.arguments;
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
