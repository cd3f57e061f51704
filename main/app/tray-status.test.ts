import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ClusterView, ControlEvent, RequestLogEntry } from '../../shared/control.js';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { createNode } from '../node/node.js';
import { applyTrayEvent, INITIAL_TRAY_STATUS, TrayStatusFeed, trayText, type TrayText } from './tray-status.js';

function clusterOf(nodeCount: number): ClusterView {
  const nodes = Array.from({ length: nodeCount }, (_, index) => ({ nodeId: `n${index}`, name: `node ${index}`, self: index === 0, device: null }));
  return { selfId: 'n0', meshPort: 7341, memoryLimitBytes: null, manualPeers: [], nodes, links: [], plans: [], shards: [], remoteModels: [] };
}

function request(completionTokens: number | null, durationMs: number): ControlEvent {
  const entry: RequestLogEntry = { id: 1, at: 0, method: 'POST', path: '/v1/chat/completions', model: 'm', promptTokens: 3, completionTokens, durationMs, status: 200, stream: false };
  return { type: 'request', request: entry };
}

test('cluster, models and request events fold into the tray status; the others leave it alone', () => {
  const models = ['qwen3-tiny'];
  let status = applyTrayEvent(INITIAL_TRAY_STATUS, { type: 'cluster', cluster: clusterOf(3) }, () => models);
  assert.deepEqual(status, { nodeCount: 3, modelIds: ['qwen3-tiny'], tokensPerSecond: null });
  models.push('llama-tiny');
  status = applyTrayEvent(status, { type: 'models' }, () => models);
  assert.deepEqual(status.modelIds, ['qwen3-tiny', 'llama-tiny']);
  status = applyTrayEvent(status, request(50, 2000), () => models);
  assert.equal(status.tokensPerSecond, 25);
  // A failed request (no tokens) or one with no duration keeps the last figure.
  assert.equal(applyTrayEvent(status, request(null, 10), () => models), status);
  assert.equal(applyTrayEvent(status, request(5, 0), () => models), status);
  const device = { type: 'download', download: { id: 'd', nodeId: 'n', repo: 'r/r', file: null, layers: null, state: 'running', receivedBytes: 0, totalBytes: 0, bytesPerSecond: 0, etaSeconds: null, modelId: null, error: null, startedAt: 0 } } as const;
  assert.equal(applyTrayEvent(status, device, () => []), status);
  // A cluster view with no nodes yet (mesh still starting) still counts this one.
  assert.equal(applyTrayEvent(status, { type: 'cluster', cluster: clusterOf(0) }, () => models).nodeCount, 1);
});

test('the tray text names the nodes, the model and the last answer’s speed', () => {
  assert.deepEqual(trayText(INITIAL_TRAY_STATUS), {
    tooltip: 'Tessera · 1 node · no model',
    lines: ['Cluster: 1 node', 'No model loaded', 'No answers yet'],
  });
  assert.deepEqual(trayText({ nodeCount: 2, modelIds: ['qwen3-tiny'], tokensPerSecond: 12.345 }), {
    tooltip: 'Tessera · 2 nodes · qwen3-tiny · 12.3 tok/s',
    lines: ['Cluster: 2 nodes', 'Model: qwen3-tiny', '12.3 tokens/s (last answer)'],
  });
  assert.equal(trayText({ nodeCount: 2, modelIds: ['a', 'b', 'c'], tokensPerSecond: null }).lines[1], 'Models: a +2');
});

test('the feed follows a real node: its mesh, its loaded model and an answer from its API', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tessera-tray-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const modelPath = join(root, 'qwen3-tiny.gguf');
  await writeRandomModel(modelPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 3 });
  const node = await createNode({
    dataDir: join(root, 'data'),
    host: '127.0.0.1',
    port: 0,
    uiDir: root,
    model: modelPath,
    threads: 1,
    contextLength: 256,
    deviceSampleIntervalMs: 20,
    mesh: { port: 0, discovery: false },
  });
  t.after(() => node.stop());

  const shown: TrayText[] = [];
  const answered = new Promise<void>((resolve) => {
    const feed = new TrayStatusFeed(node, (text) => {
      shown.push(text);
      if (text.lines[2] !== 'No answers yet') resolve();
    });
    t.after(() => feed.stop());
  });
  assert.deepEqual(shown[0]?.lines.slice(0, 2), ['Cluster: 1 node', 'Model: qwen3-tiny']);

  const response = await fetch(`${node.openAiUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'qwen3-tiny', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, temperature: 0 }),
  });
  assert.equal(response.status, 200);
  await answered;
  assert.match(shown.at(-1)!.lines[2], /^\d+\.\d tokens\/s \(last answer\)$/);
  // Device samples keep arriving; they change nothing the tray shows, so nothing is redrawn.
  const count = shown.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(shown.length, count);
});
