// A leading `<think>…</think>` block split off piece by piece: the same partial parse as
// parseModelOutput with `reasoning` on (splitReasoning, then the format over the rest).

import { MarkerSearch } from './hold-back.js';
import { THINK_CLOSE, THINK_OPEN } from './reasoning.js';
import type { FormatStream, FormatStep } from './types.js';
import { VisibleText } from './visible-text.js';

export interface ReasoningStep extends FormatStep {
  /** What the reasoning now adds to that of earlier steps ('' when nothing). */
  readonly reasoning: string;
}

const NOTHING: ReasoningStep = { reasoning: '', content: '', calls: [] };

export class ReasoningStream {
  private state: 'undecided' | 'thinking' | 'answer' = 'undecided';
  /** The text while it is only whitespace and perhaps part of <think>. */
  private start = '';
  private readonly reasoning = new VisibleText();
  private readonly close = new MarkerSearch(THINK_CLOSE);

  constructor(private readonly answer: FormatStream) {}

  push(piece: string): ReasoningStep {
    if (this.state === 'undecided') {
      this.start += piece;
      const trimmed = this.start.trimStart();
      if (trimmed.startsWith(THINK_OPEN)) {
        this.state = 'thinking';
        piece = trimmed.slice(THINK_OPEN.length);
      } else if (trimmed.length < THINK_OPEN.length && THINK_OPEN.startsWith(trimmed)) {
        return NOTHING; // "<thi" could still open a block
      } else {
        // No thinking block: the whole text is the answer.
        this.state = 'answer';
        piece = this.start;
      }
      this.start = '';
    }
    if (this.state === 'answer') return { reasoning: '', ...this.answer.push(piece) };

    const found = this.close.push(piece);
    this.reasoning.commit(found.settled);
    if (!found.found) return { reasoning: this.reasoning.take([THINK_CLOSE], found.pending), content: '', calls: [] };
    this.state = 'answer';
    const reasoning = this.reasoning.take([]);
    return { reasoning, ...this.answer.push(found.after) };
  }
}
