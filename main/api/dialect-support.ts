// What every API dialect's router shares: cancelling generations whose clients went away, the
// optional API key, and writing an error body in the dialect's own shape.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TesseraError } from '../../shared/errors.js';

/** Seconds a client told "queue full" is asked to wait before trying again. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 2;

/** The requests a router is serving, each with a signal that aborts when its client goes away. */
export class InFlightRequests {
  private readonly controllers = new Set<AbortController>();

  /** A signal for this response: aborted when the client closes before the answer is complete. */
  track(response: ServerResponse): AbortSignal {
    const controller = new AbortController();
    this.controllers.add(controller);
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
      this.controllers.delete(controller);
    });
    return controller.signal;
  }

  /** The server is stopping: end every generation. */
  abortAll(): void {
    for (const controller of this.controllers) controller.abort();
  }
}

/** The token of an `Authorization: Bearer <token>` header, or ''. */
export function bearerOf(request: IncomingMessage): string {
  return /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim() ?? '';
}

/** Whether `given` is the configured key (always true when none is configured); constant time. */
export function apiKeyMatches(expected: string | undefined, given: string): boolean {
  if (expected === undefined || expected === '') return true;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Writes `body` as a JSON error; a response already streaming is just ended (the stream reported it). */
export function sendDialectError(response: ServerResponse, error: TesseraError, status: number, body: unknown, dialect: string): void {
  if (error.code === 'INTERNAL') console.error(`tessera: ${dialect} request failed:`, error.cause ?? error);
  if (response.headersSent) {
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) };
  if (error.code === 'QUEUE_FULL') headers['retry-after'] = QUEUE_FULL_RETRY_AFTER_SECONDS;
  response.writeHead(status, headers);
  response.end(text);
}
