// What a tool-call parser makes of a model's text, and the contract every family's parser keeps.

export interface ParsedToolCall {
  readonly name: string;
  /**
   * The arguments as JSON text. In a partial parse: the raw text written so far (it only
   * grows); in a final parse: complete JSON that parses.
   */
  readonly arguments: string;
}

export interface ParsedMessage {
  /** Visible answer text, with tool-call markup removed. */
  readonly content: string;
  /** Text the model wrote inside its thinking block (`<think>…</think>`), if any. */
  readonly reasoning: string;
  readonly toolCalls: readonly ParsedToolCall[];
}

/**
 * One parser serves the stream and the final answer (isPartial = false).
 * For successive partial parses of a growing text, every field only grows: content and
 * reasoning extend, calls are appended, a call's arguments extend. Text that might still turn
 * into markup is held back until it is clear, so markup never reaches `content`.
 */
export interface ToolCallFormat {
  readonly name: string;
  parse(text: string, isPartial: boolean): ParsedMessage;
  /**
   * The same partial parse, fed the text piece by piece with work proportional to each piece
   * (plus a bounded look-back, and the current call object while one is being written).
   */
  startStream(): FormatStream;
}

/** A call of the current partial parse that is new or may have changed since the last step. */
export interface CallUpdate {
  readonly index: number;
  readonly call: ParsedToolCall;
  /**
   * When set, `call.arguments` is the arguments of this index's previous update followed by
   * this text, so no comparison of the two is needed.
   */
  readonly argumentsGrowth?: string;
}

/** What one piece of text changes in a partial parse. */
export interface FormatStep {
  /** What the parse's content now adds to the content of earlier steps ('' when nothing). */
  readonly content: string;
  /** Calls the parse now holds that earlier steps did not, or that may have grown, by index. */
  readonly calls: readonly CallUpdate[];
}

export interface FormatStream {
  push(piece: string): FormatStep;
}

export const EMPTY_MESSAGE: ParsedMessage = { content: '', reasoning: '', toolCalls: [] };
