// Finds stop strings in streamed text. Pieces arrive token by token, so a stop string can span
// pieces: text that could still be the start of a stop string is held back until the next piece
// shows whether it is one.

export interface StopScanResult {
  /** Text safe to send to the client now. */
  text: string;
  /** The stop string found; generation should end and nothing after it is sent. */
  stoppedBy?: string;
}

export class StopSequenceMatcher {
  private readonly stops: readonly string[];
  private held = '';
  private stopped = false;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  push(piece: string): StopScanResult {
    if (this.stopped) return { text: '' };
    const buffer = this.held + piece;
    // The earliest stop wins; at the same position, the longer string.
    let foundAt = -1;
    let found: string | undefined;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0 && (foundAt < 0 || at < foundAt || (at === foundAt && stop.length > found!.length))) {
        foundAt = at;
        found = stop;
      }
    }
    if (found !== undefined) {
      this.stopped = true;
      this.held = '';
      return { text: buffer.slice(0, foundAt), stoppedBy: found };
    }
    const keep = this.longestStopPrefixAtEnd(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return { text: buffer.slice(0, buffer.length - keep) };
  }

  /** At the end of generation: the held-back text was not a stop string after all. */
  flush(): string {
    const rest = this.stopped ? '' : this.held;
    this.held = '';
    return rest;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some stop string. */
  private longestStopPrefixAtEnd(text: string): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, text.length); length > longest; length--) {
        if (text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
