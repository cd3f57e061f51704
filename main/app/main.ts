// The Electron shell: one window onto a node that runs in this same process. All of Tessera's
// work happens in main/node; this file only makes the window, hands it the token, and stops the
// node when the app quits. Started by `tessera start` (main/app/launch.ts) or a packaged build.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain } from 'electron';
import { PRELOAD_TOKEN_CHANNEL } from '../../shared/control.js';
import { isTesseraError } from '../../shared/errors.js';
import { NODE_FLAGS, nodeConfigFromFlags } from '../cli/node-flags.js';
import { createNode, type TesseraNode } from '../node/node.js';
import { lockDownWebContents, originOf } from './window-security.js';

const PRELOAD_PATH = fileURLToPath(new URL('./preload/index.js', import.meta.url));
const WINDOW_SIZE = { width: 1100, height: 760, minWidth: 720, minHeight: 480 };

let node: TesseraNode | undefined;
let window: BrowserWindow | undefined;

if (!app.requestSingleInstanceLock()) {
  app.quit(); // another Tessera window is open; it gets focus through 'second-instance'
} else {
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  lockDownWebContents(() => (node ? originOf(node.url) : undefined));
  app.whenReady().then(start, (error: unknown) => fail(error));
}

async function start(): Promise<void> {
  try {
    node = await createNode(nodeConfigFromFlags(readFlags()));
  } catch (error) {
    return fail(error);
  }
  const trustedOrigin = originOf(node.url);
  ipcMain.handle(PRELOAD_TOKEN_CHANNEL, (event) => {
    // Only the node's own UI may have the token, never a page that got into a frame somehow.
    if (!event.senderFrame || originOf(event.senderFrame.url) !== trustedOrigin) throw new Error('not allowed');
    return node?.token;
  });
  openWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) openWindow();
  });
}

function openWindow(): void {
  if (!node) return;
  window = new BrowserWindow({
    ...WINDOW_SIZE,
    title: 'Tessera',
    show: false,
    webPreferences: { preload: PRELOAD_PATH, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  window.once('ready-to-show', () => window?.show());
  window.on('closed', () => (window = undefined));
  void window.loadURL(node.url);
}

/** Flags after the app path; lenient, because Chromium and Playwright add switches of their own. */
function readFlags(): Record<string, string | boolean | undefined> {
  const options = Object.fromEntries(Object.keys(NODE_FLAGS).map((name) => [name, { type: 'string' as const }]));
  const args = process.argv.slice(app.isPackaged ? 1 : 2);
  return parseArgs({ args, options, strict: false, allowPositionals: true }).values;
}

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`tessera: ${message}`);
  if (!isTesseraError(error)) console.error(error);
  dialog.showErrorBox('Tessera could not start', message);
  app.exit(1);
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit(); // macOS apps stay in the dock until Quit
});

let stopped = false;
app.on('before-quit', (event) => {
  if (stopped || !node) return;
  event.preventDefault(); // stop the node first, then quit for real
  stopped = true;
  void node.stop().finally(() => app.quit());
});
