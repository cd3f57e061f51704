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
}

export const EMPTY_MESSAGE: ParsedMessage = { content: '', reasoning: '', toolCalls: [] };
