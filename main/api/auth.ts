// The node token check for /api: `Authorization: Bearer <token>` on HTTP requests, or
// `?token=<token>` on the events socket (browsers cannot set headers on a WebSocket).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_AUTH_SCHEME, TOKEN_QUERY_PARAMETER } from '../../shared/control.js';

export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  return scheme?.toLowerCase() === TOKEN_AUTH_SCHEME.toLowerCase() ? value : undefined;
}

export function queryToken(url: URL): string | undefined {
  return url.searchParams.get(TOKEN_QUERY_PARAMETER) ?? undefined;
}

/** Constant-time comparison, so response timing does not reveal how much of a guess was right. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined || given === '') return false;
  // Hashing first gives equal-length inputs, which timingSafeEqual requires.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(expected), digest(given));
}
