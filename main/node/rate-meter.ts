// Tokens per second over a sliding window: what the Devices page shows per node. Each generated
// (or, on a shard, ring-processed) token is recorded as it happens; the rate is the tokens of the
// last RATE_WINDOW_MS over the time they span up to now, so it falls to 0 once the node is idle.

/** How far back the rate looks (ms). */
export const RATE_WINDOW_MS = 5_000;
/**
 * Shortest span a rate is computed over (ms): one token just recorded must not read as thousands
 * per second.
 */
export const RATE_MIN_SPAN_MS = 1_000;

interface Sample {
  at: number;
  tokens: number;
}

export class TokenRateMeter {
  readonly #windowMs: number;
  readonly #minSpanMs: number;
  readonly #now: () => number;
  /** Samples in time order; those older than the window are dropped as new ones come. */
  readonly #samples: Sample[] = [];

  constructor(options: { windowMs?: number; minSpanMs?: number; now?: () => number } = {}) {
    this.#windowMs = options.windowMs ?? RATE_WINDOW_MS;
    this.#minSpanMs = Math.min(options.minSpanMs ?? RATE_MIN_SPAN_MS, this.#windowMs);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Counts `tokens` tokens done now. */
  record(tokens = 1): void {
    if (!(tokens > 0)) return;
    const now = this.#now();
    const last = this.#samples.at(-1);
    // Tokens within the same millisecond share one sample, so a fast decode keeps the list short.
    if (last !== undefined && last.at === now) last.tokens += tokens;
    else this.#samples.push({ at: now, tokens });
    this.#prune(now);
  }

  /** Tokens per second over the window ending now; 0 when nothing was recorded in it. */
  rate(): number {
    const now = this.#now();
    this.#prune(now);
    const oldest = this.#samples[0];
    if (oldest === undefined) return 0;
    const tokens = this.#samples.reduce((sum, sample) => sum + sample.tokens, 0);
    const spanMs = Math.max(now - oldest.at, this.#minSpanMs);
    return tokens / (spanMs / 1000);
  }

  #prune(now: number): void {
    const cutoff = now - this.#windowMs;
    let drop = 0;
    while (drop < this.#samples.length && this.#samples[drop]!.at <= cutoff) drop++;
    if (drop > 0) this.#samples.splice(0, drop);
  }
}
