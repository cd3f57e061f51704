// Live per-node figures in Chromium against two real headless nodes that split a tiny model: the
// Shards page shows a percentage per device while the model loads (the peer's over the mesh), and
// the Devices page shows the peer's own tokens/s while a generation runs. Both pages pass axe.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ClusterView } from '../shared/control.js';
import { readGGUFHeader } from '../main/engine/gguf/reader.js';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { plannerModelFromHeader } from '../main/mesh/model-figures.js';
import { launchChromium } from './support/chromium.js';
import { REPOSITORY_ROOT, freePort, startTessera, type RunningNode } from './support/tessera-process.js';
import { ensureUiBuilt } from './support/ui-build.js';
import { controlApi, memoryLimitFor, waitFor } from './support/node-api.js';
import { openPage, seriousViolations } from './support/ui-page.js';

const CONTEXT = 1024;
const SECRET = 'e2e-live-figures-secret-1234';
const SCREENSHOTS = join(REPOSITORY_ROOT, 'test-results');

let scratch: string;
let modelPath: string;
let head: RunningNode;
let peer: RunningNode;
let headId: string;
let peerId: string;
let browser: Browser;






before(async () => {
  ensureUiBuilt();
  scratch = await mkdtemp(join(tmpdir(), 'tessera-e2e-live-'));
  modelPath = join(scratch, 'tiny.gguf');
  await writeRandomModel(modelPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 4, seed: 3 });
  const figures = plannerModelFromHeader(await readGGUFHeader(modelPath), CONTEXT);
  const flags = ['--no-discovery', '--threads', '1', '--ctx-size', String(CONTEXT), '--join', SECRET];
  const headMeshPort = await freePort();
  head = await startTessera({ args: ['--name', 'desk-a', '--mesh-port', String(headMeshPort), '--memory-limit', String(memoryLimitFor(figures, 2, true)), ...flags] });
  peer = await startTessera({
    args: ['--name', 'desk-b', '--mesh-port', '0', '--peer', `127.0.0.1:${headMeshPort}`, '--memory-limit', String(memoryLimitFor(figures, 2, false)), ...flags],
  });
  // Both ends measured: the planner rings only over measured links.
  const view = await waitFor('a cluster of two', async () => {
    const seen = await controlApi<ClusterView>(head, 'GET', '/api/cluster');
    return seen.nodes.length === 2 && seen.nodes.every((node) => node.device !== null) && seen.links.some((link) => link.bandwidthBytesPerSecond !== null) ? seen : undefined;
  });
  headId = view.selfId;
  // The Shards page offers the files of the head's model store.
  await mkdir(join(head.dataDir, 'models'), { recursive: true });
  await copyFile(modelPath, join(head.dataDir, 'models', 'tiny.gguf'));
  peerId = view.nodes.find((node) => !node.self)!.nodeId;
  browser = await launchChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await Promise.allSettled([head?.stop(), peer?.stop()]);
  await rm(scratch, { recursive: true, force: true });
});

test('the Shards page shows a percentage per device while the model loads', { timeout: 90_000 }, async () => {
  const { page, errors } = await openPage(browser, head, 'shards');
  await page.getByTestId('preview-load').waitFor();
  // Every percentage the page ever shows, per device, as the DOM changes (a load of a tiny model is short).
  await page.evaluate(`(() => {
    window.__loadFigures = [];
    const record = () => {
      for (const element of document.querySelectorAll('[data-testid="load-device"]')) {
        window.__loadFigures.push({ node: element.getAttribute('data-node'), state: element.getAttribute('data-state'), text: element.querySelector('[data-testid="load-device-percent"]')?.textContent ?? '' });
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  })()`);
  await page.getByTestId('preview-load').click();
  await page.getByTestId('load-progress').waitFor({ timeout: 20_000 });
  await page.getByTestId('load-device').first().waitFor({ timeout: 20_000 });
  await page.screenshot({ path: join(SCREENSHOTS, 'page-shards-loading.png'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), [], 'axe on the Shards page while loading');
  // Loaded: the layer bar shows both devices, the progress card is gone.
  await page.getByTestId('layer-segment').nth(1).waitFor({ timeout: 60_000 });
  await page.getByTestId('load-progress').waitFor({ state: 'detached', timeout: 10_000 });

  const seen = (await page.evaluate('window.__loadFigures')) as Array<{ node: string; state: string; text: string }>;
  for (const [who, nodeId] of [['the peer', peerId], ['the head', headId]] as const) {
    const figures = seen.filter((figure) => figure.node === nodeId);
    assert.ok(
      figures.some((figure) => figure.state === 'loading' && /^\d{1,3}%/.test(figure.text)),
      `${who} showed a percentage while loading: ${JSON.stringify(figures.slice(0, 5))}`,
    );
  }
  // The peer's shard reported ready over the mesh before the load ended.
  assert.ok(seen.some((figure) => figure.node === peerId && figure.state === 'ready'), 'the peer was seen ready');
  assert.deepEqual(errors, []);
  await page.close();
});

test('the Devices page shows the peer’s own tokens/s while a generation runs', { timeout: 90_000 }, async () => {
  const { page, errors } = await openPage(browser, head, 'devices');
  const peerRow = page.getByTestId('cluster-node-row').filter({ hasText: 'desk-b' });
  await peerRow.waitFor({ timeout: 20_000 });
  assert.equal((await peerRow.getByTestId('node-rate').textContent())?.trim(), '0.0', 'idle: 0 tokens/s');

  // A long streamed answer through the head; the peer runs the first shard for every token.
  const controller = new AbortController();
  let status: number | undefined;
  const generation = fetch(`${head.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages: [{ role: 'user', content: 'Count slowly.' }], temperature: 0, max_tokens: 900, stream: true }),
    signal: controller.signal,
  })
    .then(async (response) => {
      status = response.status;
      // Read it all: a client that stops reading ends the generation.
      for await (const _chunk of response.body ?? []) void _chunk;
    })
    .catch((error: unknown) => {
      if (!controller.signal.aborted) throw error; // aborted below, once the figures are seen
    });
  try {
    const rate = async (row: typeof peerRow) => Number((await row.getByTestId('node-rate').textContent())?.trim());
    await waitFor('the peer’s rate on the page', async () => ((await rate(peerRow)) > 0 ? true : undefined), 30_000);
    const headRow = page.getByTestId('cluster-node-row').filter({ hasText: 'desk-a' });
    await waitFor('the head’s rate on the page', async () => ((await rate(headRow)) > 0 ? true : undefined), 10_000);
    assert.match((await page.getByTestId('cluster-graph').textContent()) ?? '', /\d+\.\d tok\/s/, 'the graph shows rates too');
    await page.screenshot({ path: join(SCREENSHOTS, 'page-devices-rates.png'), fullPage: true });
    assert.deepEqual(await seriousViolations(page), [], 'axe on the Devices page');
  } finally {
    controller.abort();
    await generation;
  }
  assert.equal(status, 200);
  assert.deepEqual(errors, []);
  await page.close();
});
