// The UI in Chromium against a real headless node: the device card must show this machine's real
// figures and keep them live.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from './support/chromium.js';
import { REPOSITORY_ROOT, startTessera, type RunningNode } from './support/tessera-process.js';
import { ensureUiBuilt } from './support/ui-build.js';

let node: RunningNode;
let browser: Browser;

before(async () => {
  ensureUiBuilt();
  node = await startTessera({ args: ['--name', 'e2e desk'] });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await node?.stop();
});

async function nodeInfo() {
  const response = await fetch(`${node.baseUrl}/api/node`, { headers: { authorization: `Bearer ${node.token}` } });
  return (await response.json()) as { id: string; version: string };
}

test('the device card shows this machine’s real figures, live', async () => {
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });

  await page.goto(node.uiUrl);
  const card = page.getByTestId('device-card');
  await card.waitFor();

  const { version } = JSON.parse(await readFile(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { version: string };
  const info = await nodeInfo();
  const value = (id: string) => page.getByTestId(id).getAttribute('data-value');
  assert.equal(await page.getByTestId('device-hostname').textContent(), hostname());
  assert.equal(await page.getByTestId('device-cpu').textContent(), cpus()[0]!.model.trim());
  assert.equal(Number(await value('device-cores')), cpus().length);
  assert.equal(Number(await value('device-memory-total')), totalmem());
  const free = Number(await value('device-memory-free'));
  assert.ok(free > 0 && free <= totalmem(), `free memory ${free}`);
  assert.equal(await value('device-os'), process.platform);
  assert.equal(await page.getByTestId('node-id').textContent(), info.id);
  assert.equal(await page.getByTestId('node-version').textContent(), version);
  assert.equal(await page.getByTestId('node-name').textContent(), 'e2e desk');

  // The token leaves the address bar once read.
  assert.equal(new URL(page.url()).searchParams.has('token'), false);

  // Live: the events socket is up and new samples arrive without a reload.
  await page.locator('[data-testid="events-status"][data-status="live"]').waitFor();
  const sampledAt = () => page.getByTestId('device-sampled-at').getAttribute('data-sampled-at');
  const firstSample = await sampledAt();
  const deadline = Date.now() + 10_000;
  while ((await sampledAt()) === firstSample) {
    assert.ok(Date.now() < deadline, 'no live device update within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const renamed = await fetch(`${node.baseUrl}/api/node`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'renamed live' }),
  });
  assert.equal(renamed.status, 200);
  await page.getByTestId('node-name').filter({ hasText: 'renamed live' }).waitFor({ timeout: 5_000 });

  await mkdir(join(REPOSITORY_ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: join(REPOSITORY_ROOT, 'test-results', 'device-card.png'), fullPage: true });

  // A reload keeps working: the token was kept for this tab.
  await page.reload();
  await page.getByTestId('device-card').waitFor();
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test('without the token the UI says how to get in, and shows no device data', async () => {
  const page = await browser.newPage();
  await page.goto(node.baseUrl);
  await page.getByRole('alert').filter({ hasText: 'needs the node’s token' }).waitFor();
  assert.equal(await page.getByTestId('device-card').count(), 0);
  await page.close();
});

test('the UI is served with a Content-Security-Policy', async () => {
  const response = await fetch(`${node.baseUrl}/`);
  assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
});
