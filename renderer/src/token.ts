// Where the UI gets the node token: from `?token=` in the address (headless nodes print such a
// link), which is then kept in sessionStorage and removed from the address bar; or from the
// Electron preload, which never puts it in a URL.
import { PRELOAD_GLOBAL, type TesseraPreloadApi } from '../../shared/control.js';
import { takeTokenFromUrl } from './token-url.js';

const STORAGE_KEY = 'tessera.node-token';

export async function resolveToken(): Promise<string | undefined> {
  const { token, cleanedUrl } = takeTokenFromUrl(window.location.href);
  if (token) {
    sessionStorage.setItem(STORAGE_KEY, token);
    window.history.replaceState(window.history.state, '', cleanedUrl);
    return token;
  }
  const preload = (window as unknown as Record<string, TesseraPreloadApi | undefined>)[PRELOAD_GLOBAL];
  if (preload) return preload.getToken();
  return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
}

/** Drops a token the node refused, so a reload does not keep sending it. */
export function forgetToken(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
