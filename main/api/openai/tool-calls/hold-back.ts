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
