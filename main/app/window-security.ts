// The rules every page in the app lives under: it may show only the node's own UI, opens nothing
// new, gets no permissions, and carries the same Content-Security-Policy the node sends.
import { app, session, shell, type WebContents } from 'electron';
import { UI_CONTENT_SECURITY_POLICY } from '../api/static-files.js';

/** Applies the rules to every web contents the app creates. `trustedOrigin` is the node's UI origin. */
export function lockDownWebContents(trustedOrigin: () => string | undefined): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [UI_CONTENT_SECURITY_POLICY] },
    });
  });

  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (originOf(url) === trustedOrigin()) return;
      event.preventDefault();
      openOutside(url);
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      openOutside(url);
      return { action: 'deny' };
    });
  });
}

/** Links to the web open in the user's browser; anything else (file:, custom schemes) is dropped. */
function openOutside(url: string): void {
  const protocol = originOf(url) ? new URL(url).protocol : '';
  if (protocol === 'https:' || protocol === 'http:') void shell.openExternal(url);
}

export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
