// The Electron shell: one window and a tray item onto a node that runs in this same process. All
// of Tessera's work happens in main/node; this file makes the window, hands it the token, keeps
// the app (and so the node) alive in the tray when the window closes, and stops the node cleanly
// on Quit or a termination signal. Started by `tessera start` (main/app/launch.ts) or a packaged build.
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, clipboard, dialog, ipcMain } from 'electron';
import { PRELOAD_TOKEN_CHANNEL } from '../../shared/control.js';
import { isTesseraError, TesseraError } from '../../shared/errors.js';
import { nodeConfigFromFlags } from '../cli/node-flags.js';
import { createNode, type TesseraNode } from '../node/node.js';
import { appFlags } from './app-flags.js';
import { isTrustedIpcSender, originOf, secureWebPreferences } from './security-policy.js';
import { NodeShutdown, onTerminationSignals } from './shutdown.js';
import { StatusTray } from './tray.js';
import { lockDownWebContents } from './window-security.js';

const PRELOAD_PATH = fileURLToPath(new URL('./preload/index.js', import.meta.url));
const WINDOW_SIZE = { width: 1100, height: 760, minWidth: 720, minHeight: 480 };

let node: TesseraNode | undefined;
let window: BrowserWindow | undefined;
let tray: StatusTray | undefined;
let shutdown: NodeShutdown | undefined;

if (!app.requestSingleInstanceLock()) {
  app.quit(); // Tessera already runs; it shows its window through 'second-instance'
} else {
  // Starting Tessera again (say, from the launcher while it sits in the tray) brings the window back.
  app.on('second-instance', () => showWindow());
  lockDownWebContents(() => (node ? originOf(node.url) : undefined));
  onTerminationSignals(() => {
    if (shutdown?.started) app.exit(1); // asked twice: stop waiting for the node
    else app.quit();
  });
  app.whenReady().then(start, (error: unknown) => fail(error));
}

async function start(): Promise<void> {
  try {
    node = await createNode(nodeConfigFromFlags(appFlags(process.argv, app.isPackaged)));
  } catch (error) {
    return fail(error);
  }
  const running = node;
  shutdown = new NodeShutdown(() => running.stop());
  ipcMain.handle(PRELOAD_TOKEN_CHANNEL, (event) => {
    // Only the top frame of the node's own UI may have the token, never a page in a frame.
    const frame = event.senderFrame;
    if (!isTrustedIpcSender(frame && { url: frame.url, isMainFrame: frame.parent === null }, originOf(running.url))) {
      throw new TesseraError('UNAUTHORIZED', 'only the node’s own page may ask for its token');
    }
    return running.token;
  });
  try {
    tray = new StatusTray(running, {
      showWindow,
      copyApiUrl: () => clipboard.writeText(running.openAiUrl),
      quit: () => app.quit(),
    });
  } catch (error) {
    // Without a tray, closing the window quits (see 'window-all-closed'), so nothing runs unseen.
    console.error('tessera: no tray item:', error);
  }
  showWindow();
}

/** Shows the window, making it again if it was closed. */
function showWindow(): void {
  if (!node) return;
  if (window) {
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return;
  }
  const opened = new BrowserWindow({ ...WINDOW_SIZE, title: 'Tessera', show: false, webPreferences: secureWebPreferences(PRELOAD_PATH) });
  window = opened;
  opened.once('ready-to-show', () => opened.show());
  opened.on('closed', () => {
    if (window === opened) window = undefined;
  });
  // The token reaches the page through the preload, never in its URL.
  void opened.loadURL(node.url);
}

// Closing the window leaves the node serving and the app in the tray; Quit (tray, menu, Cmd+Q) ends both.
app.on('window-all-closed', () => {
  if (!tray) app.quit();
});
app.on('activate', () => showWindow()); // macOS: clicking the dock icon

app.on('before-quit', (event) => {
  if (!shutdown || shutdown.outcome) return; // no node yet, or it has stopped: quit for real
  event.preventDefault();
  void shutdown.run().then((outcome) => {
    tray?.destroy();
    tray = undefined;
    if (outcome.state === 'stopped') return app.quit();
    const why = outcome.state === 'failed' ? String(outcome.error) : `it did not stop within ${outcome.afterMs} ms`;
    console.error(`tessera: the node did not stop cleanly: ${why}`);
    app.exit(1);
  });
});

function fail(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`tessera: ${message}`);
  if (!isTesseraError(error)) console.error(error);
  dialog.showErrorBox('Tessera could not start', message);
  app.exit(1);
}
