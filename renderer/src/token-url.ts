// Pure URL handling for the node token (kept apart from token.ts, which needs the DOM).
import { TOKEN_QUERY_PARAMETER } from '../../shared/control.js';

/** Splits the token off a URL: the token (if any) and the same URL without it. */
export function takeTokenFromUrl(href: string): { token: string | undefined; cleanedUrl: string } {
  const url = new URL(href);
  const token = url.searchParams.get(TOKEN_QUERY_PARAMETER) || undefined;
  url.searchParams.delete(TOKEN_QUERY_PARAMETER);
  return { token, cleanedUrl: `${url.pathname}${url.search}${url.hash}` };
}
