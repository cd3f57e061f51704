// Rate and ETA of a download, smoothed over the last few seconds so the figure neither freezes
// nor jumps with each chunk.

/** Samples older than this are dropped from the rate. */
export const RATE_WINDOW_MS = 5_000;

export interface ProgressFigures {
  readonly receivedBytes: number;
  readonly totalBytes: number;
  /** Over the last RATE_WINDOW_MS; 0 until two samples exist. */
  readonly bytesPerSecond: number;
  /** null while the rate is unknown. */
  readonly etaSeconds: number | null;
}

export class ProgressMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    readonly totalBytes: number,
    private receivedBytes = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.samples.push({ at: this.now(), bytes: receivedBytes });
  }

  /** Records the running total. */
  update(receivedBytes: number): ProgressFigures {
    this.receivedBytes = receivedBytes;
    const at = this.now();
    this.samples.push({ at, bytes: receivedBytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > RATE_WINDOW_MS) this.samples.shift();
    return this.figures();
  }

  figures(): ProgressFigures {
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    const bytesPerSecond = seconds > 0 ? Math.max(0, (last.bytes - first.bytes) / seconds) : 0;
    const left = this.totalBytes - this.receivedBytes;
    return {
      receivedBytes: this.receivedBytes,
      totalBytes: this.totalBytes,
      bytesPerSecond,
      etaSeconds: left <= 0 ? 0 : bytesPerSecond > 0 ? left / bytesPerSecond : null,
    };
  }
}
