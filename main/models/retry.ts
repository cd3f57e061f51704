// Retrying a network step with exponential backoff. Only errors a retry can cure are retried
// (a dropped connection, a 5xx); a 404 or a refused token fails at once.

import { isTesseraError, TesseraError } from '../../shared/errors.js';

export interface RetryPolicy {
  /** Attempts after the first one. */
  readonly retries: number;
  /** Delay before the first retry; doubled for each further one. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** About a minute of trying before a lost network is reported. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 6, baseDelayMs: 500, maxDelayMs: 16_000 };

/** Whether another attempt may succeed: everything except errors that say the request itself is wrong. */
export function isRetryable(error: unknown): boolean {
  if (isTesseraError(error)) return error.code === 'HUB_UNREACHABLE' || error.code === 'PEER_TRANSFER_FAILED';
  return !(error instanceof Error && error.name === 'AbortError');
}

export function backoffDelayMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function aborted(): TesseraError {
  return new TesseraError('DOWNLOAD_ABORTED', 'the download was stopped');
}

/** Runs `step` until it succeeds, a non-retryable error, or the policy's retries are spent. */
export async function withRetries<T>(step: () => Promise<T>, policy: RetryPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (signal?.aborted) throw aborted();
      if (!isRetryable(error) || attempt >= policy.retries) throw error;
      await sleep(backoffDelayMs(policy, attempt), signal);
    }
  }
}
