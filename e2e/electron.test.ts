// The desktop app through Playwright's Electron driver. Runs where the Electron binary, the built
// app and a display exist; elsewhere it is skipped and says which is missing.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { _electron } from 'playwright-core';
import { electronAvailability } from '../main/app/launch.js';
import { freePort } from './support/tessera-process.js';
import { ensureUiBuilt } from './support/ui-build.js';

const electron = electronAvailability();

test('the desktop app opens a sandboxed window showing this device', async (t) => {
  if (!electron.available) {
    t.skip(`Electron cannot start here (${electron.reason})`);
    return;
  }
  ensureUiBuilt();
  const dataDir = await mkdtemp(join(tmpdir(), 'tessera-electron-'));
  const app = await _electron.launch({
    executablePath: electron.binary,
    args: [electron.appRoot, `--port=${await freePort()}`, `--data-dir=${dataDir}`],
  });
  try {
    const window = await app.firstWindow();
    await window.getByTestId('device-card').waitFor({ timeout: 30_000 });
    assert.equal(await window.getByTestId('device-hostname').textContent(), hostname());
    // The page got its token from the preload, not from its URL, and has no Node.
    assert.equal(new URL(window.url()).searchParams.has('token'), false);
    assert.equal(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require), 'undefined');
    // Context isolation: the page sees the preload's one function and nothing of Node or Electron.
    const globals = await window.evaluate(() => {
      const scope = globalThis as { process?: unknown; tessera?: { getToken?: unknown } };
      return { process: typeof scope.process, getToken: typeof scope.tessera?.getToken };
    });
    assert.deepEqual(globals, { process: 'undefined', getToken: 'function' });
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
