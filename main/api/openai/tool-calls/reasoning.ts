// Splits a leading `<think>…</think>` block (Qwen3, DeepSeek-R1 style) off the model's text.

import { pendingMarkerLength } from './hold-back.js';

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

export interface ReasoningSplit {
  readonly reasoning: string;
  /** The text after the thinking block, to be parsed for content and tool calls. */
  readonly rest: string;
  /** While partial: true when nothing after the block may be shown yet. */
  readonly undecided: boolean;
}

export function splitReasoning(text: string, isPartial: boolean): ReasoningSplit {
  const start = text.trimStart();
  if (!start.startsWith(THINK_OPEN)) {
    // A stream that so far is "<thi" could still open a block: show nothing yet.
    if (isPartial && start.length < THINK_OPEN.length && THINK_OPEN.startsWith(start)) {
      return { reasoning: '', rest: '', undecided: true };
    }
    return { reasoning: '', rest: text, undecided: false };
  }
  const body = start.slice(THINK_OPEN.length);
  const close = body.indexOf(THINK_CLOSE);
  if (close < 0) {
    if (!isPartial) return { reasoning: body.trim(), rest: '', undecided: false };
    const shown = body.slice(0, body.length - pendingMarkerLength(body, [THINK_CLOSE]));
    return { reasoning: shown.trimStart().trimEnd(), rest: '', undecided: true };
  }
  return { reasoning: body.slice(0, close).trim(), rest: body.slice(close + THINK_CLOSE.length), undecided: false };
}
