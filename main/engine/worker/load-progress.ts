// Counts the weight bytes a load has read and decides when the main thread hears about it:
// often enough for a progress bar, rarely enough that a fast load is not flooded with messages.

/** Longest quiet time between two progress reports while bytes keep arriving. */
export const LOAD_PROGRESS_INTERVAL_MS = 100;
/** A report is also due whenever this fraction of the total has been read since the last one. */
export const LOAD_PROGRESS_STEP = 0.05;

export type ProgressReport = (loadedBytes: number, totalBytes: number) => void;

export class LoadProgress {
  private loaded = 0;
  private reportedBytes = -1;
  private reportedAt = 0;

  constructor(
    readonly totalBytes: number,
    private readonly report: ProgressReport,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.emit();
  }

  get loadedBytes(): number {
    return this.loaded;
  }

  /** `bytes` more were read. Never passes the total, so reports only grow and end at it. */
  add(bytes: number): void {
    this.loaded = Math.min(this.totalBytes, this.loaded + bytes);
    const dueByTime = this.now() - this.reportedAt >= LOAD_PROGRESS_INTERVAL_MS;
    const dueByStep = this.loaded - this.reportedBytes >= this.totalBytes * LOAD_PROGRESS_STEP;
    if (this.loaded < this.totalBytes && (dueByTime || dueByStep)) this.emit();
  }

  /** The load is complete: the last report says totalBytes (once). */
  finish(): void {
    this.loaded = this.totalBytes;
    if (this.reportedBytes !== this.totalBytes) this.emit();
  }

  private emit(): void {
    this.reportedBytes = this.loaded;
    this.reportedAt = this.now();
    this.report(this.loaded, this.totalBytes);
  }
}
