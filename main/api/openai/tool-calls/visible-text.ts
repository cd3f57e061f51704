// The streamed view of a text field (content or reasoning) whose raw text only grows: what
// `visibleContent(raw, true, markers)` shows, handed out as deltas, with work per piece
// proportional to the piece and not to the whole text.
//
// The partial view of a raw text is raw[first non-space, end - hold) where the hold is the
// pending marker prefix plus the whitespace before it. Every view is a prefix of raw[first:],
// so "the new view extends what was sent" reduces to comparing two end positions; only a short
// window at the end of the raw text is kept for the hold-back checks.

import { pendingMarkerLength } from './hold-back.js';

/** Characters kept behind the last sent one, enough for the longest marker prefix. */
const MARKER_LOOKBACK_CHARS = 16;

/** JavaScript's trim set (String.prototype.trim), which the whole-text parsers use. */
const TRIMMED = /\s/;
const isTrimmed = (char: string): boolean => TRIMMED.test(char);

export class VisibleText {
  /** raw[windowStart:] */
  private window = '';
  private windowStart = 0;
  private rawLength = 0;
  /** Index of the first non-space character of raw; -1 while there is none. */
  private first = -1;
  /** Index of the last non-space character of raw; -1 while there is none. */
  private lastNonSpace = -1;
  /** Index of the last non-space character before the window; -1 when none. */
  private lastNonSpaceBeforeWindow = -1;
  /** End of the view last handed out; -1 before anything was. */
  private sentEnd = -1;

  /** Appends settled raw text (never taken back). */
  commit(text: string): void {
    if (text === '') return;
    if (this.first < 0) {
      for (let i = 0; i < text.length; i++) {
        if (!isTrimmed(text[i]!)) {
          this.first = this.rawLength + i;
          break;
        }
      }
    }
    for (let i = text.length - 1; i >= 0; i--) {
      if (!isTrimmed(text[i]!)) {
        this.lastNonSpace = this.rawLength + i;
        break;
      }
    }
    this.window += text;
    this.rawLength += text.length;
  }

  /**
   * The view of raw + `tail` (text not yet settled, shorter than the longest marker), held back
   * at `markers`, minus what was already handed out: '' when it does not extend it.
   */
  take(markers: readonly string[], tail = ''): string {
    const viewed = this.window + tail;
    const total = this.rawLength + tail.length;
    let end = total - pendingMarkerLength(viewed, markers);
    end = this.beforeTrailingSpace(end, viewed, tail);
    // The tail is never shown while it may still become markup: the markers cover it.
    end = Math.min(end, this.rawLength);
    let delta = '';
    if (this.first >= 0 && end > this.first) {
      const start = this.sentEnd < 0 ? this.first : this.sentEnd;
      if (end > start) {
        delta = viewed.slice(start - this.windowStart, end - this.windowStart);
        this.sentEnd = end;
      }
    }
    this.shrinkWindow();
    return delta;
  }

  /** `end` moved back over the whitespace that ends raw[0:end]. */
  private beforeTrailingSpace(end: number, viewed: string, tail: string): number {
    // Inside the tail.
    while (end > this.rawLength && isTrimmed(tail[end - this.rawLength - 1]!)) end--;
    if (end > this.rawLength) return end;
    if (end === this.rawLength) return this.lastNonSpace + 1;
    // The hold reached into raw: walk back through the window, then use what was noted when it shrank.
    while (end > this.windowStart && isTrimmed(viewed[end - this.windowStart - 1]!)) end--;
    if (end > this.windowStart) return end;
    return this.lastNonSpaceBeforeWindow + 1;
  }

  /** Drops what no later view can need: everything before the next delta's start, less the marker look-back. */
  private shrinkWindow(): void {
    const nextStart = this.sentEnd >= 0 ? this.sentEnd : this.first >= 0 ? this.first : this.rawLength;
    const keepFrom = Math.min(nextStart, this.rawLength - MARKER_LOOKBACK_CHARS);
    if (keepFrom <= this.windowStart) return;
    const dropped = this.window.slice(0, keepFrom - this.windowStart);
    for (let i = dropped.length - 1; i >= 0; i--) {
      if (!isTrimmed(dropped[i]!)) {
        this.lastNonSpaceBeforeWindow = this.windowStart + i;
        break;
      }
    }
    this.window = this.window.slice(keepFrom - this.windowStart);
    this.windowStart = keepFrom;
  }
}
