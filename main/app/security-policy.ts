// The shell's security decisions as plain functions, so they are unit-tested without Electron
// (security-policy.test.ts is the checklist). window-security.ts and main.ts apply them.
// Only types come from `electron` here: this module must load under plain Node.
import type { WebPreferences } from 'electron';

/**
 * The window's web preferences: the page runs sandboxed and isolated from the preload, with no
 * Node, no <webview>, and the same-origin policy on. Everything else stays at Electron's defaults.
 */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/** What happens to a navigation: stay (the node's own UI), hand to the system browser, or drop. */
export type NavigationVerdict = 'allow' | 'open-outside' | 'block';

/**
 * A page may move only within the node's own origin. Web links go to the user's browser; every
 * other scheme (file:, javascript:, custom protocols) is dropped. With no node yet, nothing loads.
 */
export function navigationVerdict(url: string, trustedOrigin: string | undefined): NavigationVerdict {
  const origin = originOf(url);
  if (origin !== undefined && trustedOrigin !== undefined && origin === trustedOrigin) return 'allow';
  return isWebUrl(url) ? 'open-outside' : 'block';
}

/** The frame an IPC message came from, as much of it as the check needs. */
export interface IpcSenderFrame {
  url: string;
  /** True for a window's top frame; a subframe (an iframe) is never trusted. */
  isMainFrame: boolean;
}

/** Only the top frame of a page on the node's own origin may talk to the main process. */
export function isTrustedIpcSender(frame: IpcSenderFrame | null | undefined, trustedOrigin: string | undefined): boolean {
  if (!frame || !frame.isMainFrame || trustedOrigin === undefined) return false;
  return originOf(frame.url) === trustedOrigin;
}

export function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    return origin === 'null' ? undefined : origin; // opaque origins (file:, data:) match nothing
  } catch {
    return undefined;
  }
}

function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
