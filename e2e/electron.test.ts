// The desktop app through Playwright's Electron driver. Runs where the Electron binary, the built
// app and a display exist; elsewhere it is skipped and says which is missing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { electronAvailability } from '../main/app/launch.js';
import { freePort } from './support/tessera-process.js';
import { ensureUiBuilt } from './support/ui-build.js';

const electron = electronAvailability();
const PAGE_TIMEOUT_MS = 30_000;

/** The Devices page, as a person first sees it: this device's card and the cluster beside it. */
async function seeDevicesPage(window: Page): Promise<void> {
  await window.getByTestId('device-card').waitFor({ timeout: PAGE_TIMEOUT_MS });
  await window.getByTestId('cluster-summary').waitFor({ timeout: PAGE_TIMEOUT_MS });
  assert.equal(await window.getByTestId('device-hostname').textContent(), hostname());
}

async function openWindowCount(app: ElectronApplication): Promise<number> {
  return app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length);
}

test('the desktop app opens a sandboxed window, lives on in the tray when it closes, and quits cleanly', async (t) => {
  if (!electron.available) {
    t.skip(`Electron cannot start here (${electron.reason})`);
    return;
  }
  ensureUiBuilt();
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-electron-'));
  const port = await freePort();
  const health = `http://127.0.0.1:${port}/health`;
  const app = await _electron.launch({
    executablePath: electron.binary,
    args: [electron.appRoot, `--port=${port}`, `--data-dir=${dataDir}`, '--mesh-port=0', '--no-discovery'],
  });
  let quit = false;
  try {
    const window = await app.firstWindow();
    await seeDevicesPage(window);
    // The page got its token from the preload, not from its URL, and has no Node.
    assert.equal(new URL(window.url()).searchParams.has('token'), false);
    assert.equal(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
    // Context isolation: the page sees the preload's one function and nothing of Node or Electron.
    const globals = await window.evaluate(() => {
      const scope = globalThis as { process?: unknown; tessera?: { getToken?: unknown } };
      return { process: typeof scope.process, getToken: typeof scope.tessera?.getToken };
    });
    assert.deepEqual(globals, { process: 'undefined', getToken: 'function' });
    const token = await window.evaluate(() => (globalThis as unknown as { tessera: { getToken(): Promise<string> } }).tessera.getToken());
    assert.match(token, /\S{16,}/);

    // Closing the window (as its close button does) leaves the app in the tray and the node serving.
    const closed = window.waitForEvent('close');
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.close());
    await closed;
    assert.equal(await openWindowCount(app), 0);
    assert.equal(app.process().exitCode, null, 'the app still runs');
    assert.equal((await fetch(health)).status, 200, 'the node still answers');

    // Starting Tessera again while it sits in the tray brings a window back (single instance).
    const reopened = app.waitForEvent('window');
    await app.evaluate(({ app: electronApp }) => electronApp.emit('second-instance'));
    await seeDevicesPage(await reopened);
    assert.equal(await openWindowCount(app), 1);

    // Quit stops the node and waits for it before the process ends.
    await app.close();
    quit = true;
    assert.equal(app.process().exitCode, 0);
    await assert.rejects(fetch(health), 'the node stopped with the app');
  } finally {
    if (!quit) await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
