// Holding back the end of a stream that might be the start of a marker.

/** Length of the longest suffix of `text` that is a proper prefix of one of `markers`. */
export function pendingMarkerLength(text: string, markers: readonly string[]): number {
  let longest = 0;
  for (const marker of markers) {
    const max = Math.min(marker.length - 1, text.length);
    for (let length = max; length > longest; length--) {
      if (text.endsWith(marker.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/** Length of the run of whitespace at the end of `text`. */
export function trailingWhitespaceLength(text: string): number {
  return text.length - text.trimEnd().length;
}

export type MarkerSearchStep =
  /** `settled` can no longer be part of the marker; `pending` still may be (a proper prefix of it). */
  | { readonly found: false; readonly settled: string; readonly pending: string }
  /** The marker came: `settled` is the text before it, `after` the text after it. */
  | { readonly found: true; readonly settled: string; readonly after: string };

/**
 * Finds the first occurrence of a marker in text that arrives piece by piece, looking at each
 * character a bounded number of times: only the pending suffix is searched again.
 */
export class MarkerSearch {
  private pending = '';

  constructor(private readonly marker: string) {}

  push(piece: string): MarkerSearchStep {
    const text = this.pending + piece;
    const at = text.indexOf(this.marker);
    if (at >= 0) {
      this.pending = '';
      return { found: true, settled: text.slice(0, at), after: text.slice(at + this.marker.length) };
    }
    const keep = pendingMarkerLength(text, [this.marker]);
    this.pending = text.slice(text.length - keep);
    return { found: false, settled: text.slice(0, text.length - keep), pending: this.pending };
  }
}
