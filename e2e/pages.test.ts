// Every page of the UI in Chromium against two real headless nodes serving a tiny random model:
// no console errors, no serious accessibility violations (axe-core), a streamed chat, a tool call
// answered and continued, a peer added by address, a model imported; screenshots in test-results/.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { launchChromium } from './support/chromium.js';
import { REPOSITORY_ROOT, startTessera, type RunningNode } from './support/tessera-process.js';
import { ensureUiBuilt } from './support/ui-build.js';
import { openPage, seriousViolations } from './support/ui-page.js';

const SCREENSHOTS = join(REPOSITORY_ROOT, 'test-results');
const PAGES = ['devices', 'shards', 'chat', 'models', 'server'] as const;
const MESH_FLAGS = ['--mesh-port', '0', '--no-discovery', '--join', 'e2e-cluster-secret-1234', '--threads', '1'];

let head: RunningNode;
let peer: RunningNode;
let browser: Browser;
let modelDir: string;
let modelPath: string;

before(async () => {
  ensureUiBuilt();
  modelDir = await mkdtemp(join(tmpdir(), 'tessera-e2e-model-'));
  modelPath = join(modelDir, 'tiny-qwen3.gguf');
  await writeRandomModel(modelPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 11 });
  [head, peer] = await Promise.all([
    startTessera({ args: ['--name', 'desk-a', '--model', modelPath, '--api-key', 'sk-e2e', ...MESH_FLAGS] }),
    startTessera({ args: ['--name', 'desk-b', ...MESH_FLAGS] }),
  ]);
  browser = await launchChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await Promise.all([head?.stop(), peer?.stop()]);
  await rm(modelDir, { recursive: true, force: true });
});



// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read the routes' JSON field by field
async function api(node: RunningNode, path: string): Promise<any> {
  const response = await fetch(`${node.baseUrl}${path}`, { headers: { authorization: `Bearer ${node.token}` } });
  return response.json();
}

test('a chat streams an answer with its figures, and survives a reload', async () => {
  const { page, errors } = await openPage(browser, head, 'chat');
  await page.getByTestId('max-tokens').fill('8');
  await page.getByTestId('chat-input').fill('Say hello');
  await page.getByTestId('chat-send').click();
  const answer = page.getByTestId('message-assistant').last();
  await answer.getByTestId('answer-stats').waitFor({ timeout: 60_000 });
  assert.match(await answer.getByTestId('answer-stats').textContent() ?? '', /first token \d+ ms.*8 tokens/);
  await page.reload();
  await page.getByTestId('message-user').filter({ hasText: 'Say hello' }).waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test('a required tool call streams, is answered by the demo tool, and the chat goes on', async () => {
  const { page, errors } = await openPage(browser, head, 'chat');
  await page.getByTestId('new-chat').click();
  await page.getByTestId('max-tokens').fill('48');
  await page.getByTestId('tool-enabled-get_weather').check();
  await page.getByTestId('tool-choice').selectOption('required');
  await page.getByTestId('chat-input').fill('What is the weather in Oslo?');
  await page.getByTestId('chat-send').click();

  const call = page.getByTestId('tool-call').first();
  await call.waitFor({ timeout: 60_000 });
  await page.getByTestId('tool-answer').waitFor({ timeout: 60_000 });
  assert.equal(await call.getByTestId('tool-call-name').textContent(), 'get_weather');
  JSON.parse((await call.getByTestId('tool-call-arguments').textContent()) ?? ''); // complete, valid JSON

  await page.getByTestId('tool-run-demo').first().click();
  await page.getByTestId('message-tool').first().waitFor();
  assert.match((await page.getByTestId('message-tool').first().textContent()) ?? '', /demo data/);
  // The answer went back to the model, which answered again (required: another call).
  await page.getByTestId('message-assistant').nth(1).waitFor({ timeout: 60_000 });
  await page.screenshot({ path: join(SCREENSHOTS, 'page-chat-tools.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a peer added by address joins the cluster graph', async () => {
  const peerCluster = await api(peer, '/api/cluster');
  const { page, errors } = await openPage(browser, head, 'devices');
  await page.getByTestId('join-secret').waitFor();
  await page.getByTestId('peer-address').fill(`127.0.0.1:${peerCluster.meshPort}`);
  await page.getByTestId('add-peer').click();
  await page.getByTestId('manual-peers').waitFor();
  await page.getByTestId('cluster-node-row').filter({ hasText: 'desk-b' }).waitFor({ timeout: 20_000 });
  await page.getByTestId('graph-node').nth(1).waitFor();
  await page.getByTestId('graph-link').first().waitFor({ timeout: 20_000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a model file is imported by path and deleted again', async () => {
  const importable = join(modelDir, 'imported-tiny.gguf');
  await copyFile(modelPath, importable);
  const { page, errors } = await openPage(browser, peer, 'models');
  await page.getByTestId('import-path').waitFor();
  await page.getByTestId('import-path').fill(importable);
  await page.getByRole('button', { name: 'Import' }).click();
  const row = page.getByTestId('model-row-imported-tiny');
  await row.waitFor();
  assert.match((await row.textContent()) ?? '', /imported-tiny\.gguf.*qwen3.*Q8_0.*2.*MiB.*On disk/);
  page.once('dialog', (dialog) => void dialog.accept());
  await row.getByRole('button', { name: /Delete/ }).click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('every page loads cleanly, passes axe, and is captured', async () => {
  for (const pageId of PAGES) {
    const { page, errors } = await openPage(browser, head, pageId);
    if (pageId === 'server') await page.getByTestId('request-log-row').first().waitFor();
    if (pageId === 'shards') await page.getByTestId('layer-segment').first().waitFor();
    if (pageId === 'devices') await page.getByTestId('device-card').waitFor();
    await page.waitForTimeout(300); // let live figures settle before the picture
    await page.screenshot({ path: join(SCREENSHOTS, `page-${pageId}.png`), fullPage: pageId !== 'chat' });
    assert.deepEqual(await seriousViolations(page), [], `axe on ${pageId}`);
    // Keyboard: the first Tab lands on the nav, and every control is focusable.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(`document.activeElement?.closest('nav') !== null`), true, `${pageId}: Tab reaches the nav`);
    assert.deepEqual(errors, [], `console errors on ${pageId}`);
    await page.close();
  }
});
