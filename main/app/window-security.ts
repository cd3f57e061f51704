// The rules every page in the app lives under: it may show only the node's own UI, opens nothing
// new, gets no permissions, and carries the same Content-Security-Policy the node sends. The
// decisions themselves are in security-policy.ts (unit-tested); this file hooks them into Electron.
import { app, session, shell, type WebContents } from 'electron';
import { UI_CONTENT_SECURITY_POLICY } from '../api/static-files.js';
import { navigationVerdict } from './security-policy.js';

/** Applies the rules to every web contents the app creates. `trustedOrigin` is the node's UI origin. */
export function lockDownWebContents(trustedOrigin: () => string | undefined): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    const headers = Object.fromEntries(Object.entries(details.responseHeaders ?? {}).filter(([name]) => name.toLowerCase() !== 'content-security-policy'));
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [UI_CONTENT_SECURITY_POLICY] } });
  });

  app.on('web-contents-created', (_event, contents: WebContents) => {
    const guard = (event: { preventDefault(): void }, url: string) => {
      const verdict = navigationVerdict(url, trustedOrigin());
      if (verdict === 'allow') return;
      event.preventDefault();
      if (verdict === 'open-outside') void shell.openExternal(url);
    };
    contents.on('will-navigate', guard);
    contents.on('will-redirect', guard);
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (navigationVerdict(url, undefined) === 'open-outside') void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}
