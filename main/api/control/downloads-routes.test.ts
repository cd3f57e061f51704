// The downloads control API on a real node: catalog with fit, a pull started over HTTP with its
// progress on the event bus, bad requests refused.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ControlEvent, DownloadState } from '../../../shared/control.js';
import { writeRandomModel } from '../../engine/gguf/random-model.js';
import { TestHub } from '../../models/test-hub.js';
import { createNode, type TesseraNode } from '../../node/node.js';

let root: string;
let hub: TestHub;
let node: TesseraNode;
const previousEndpoint = process.env.HF_ENDPOINT;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-downloads-'));
  await writeRandomModel(join(root, 'tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 1 });
  hub = new TestHub();
  hub.addRepo('tessera-test/Tiny-GGUF', { files: [{ path: 'Tiny-Q4_K_M.gguf', bytes: await readFile(join(root, 'tiny.gguf')) }] });
  await hub.listen();
  process.env.HF_ENDPOINT = hub.url;
  node = await createNode({ dataDir: join(root, 'data'), host: '127.0.0.1', port: 0, uiDir: join(root, 'ui'), deviceSampleIntervalMs: 60_000 });
});
after(async () => {
  await node.stop();
  await hub.close();
  if (previousEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = previousEndpoint;
  await rm(root, { recursive: true, force: true });
});

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${node.url}${path}`, { ...init, headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json', ...init.headers } });
}

it('serves the catalog marked with what fits this node', async () => {
  const body = (await (await api('/api/catalog')).json()) as { memoryBytes: number; entries: Array<{ id: string; files: Array<{ fits: boolean; sizeBytes: number }> }> };
  assert.ok(body.memoryBytes > 0);
  const small = body.entries.find((entry) => entry.id === 'qwen3-0.6b')!;
  const large = body.entries.find((entry) => entry.id === 'qwen2.5-coder-32b')!;
  assert.equal(small.files[0]!.fits, body.memoryBytes > 2e9);
  assert.equal(large.files.at(-1)!.fits, body.memoryBytes > 50e9);
});

it('pulls over the API and streams download events until done', async () => {
  const events: DownloadState[] = [];
  const done = new Promise<DownloadState>((resolve) => {
    const stop = node.subscribe((event: ControlEvent) => {
      if (event.type !== 'download') return;
      events.push(event.download);
      if (event.download.state !== 'running') {
        stop();
        resolve(event.download);
      }
    });
  });
  const response = await api('/api/downloads', { method: 'POST', body: JSON.stringify({ repo: 'tessera-test/Tiny-GGUF' }) });
  assert.equal(response.status, 202);
  const started = (await response.json()) as DownloadState;
  assert.equal(started.state, 'running');
  const final = await done;
  assert.equal(final.state, 'done', JSON.stringify(final.error));
  assert.equal(final.modelId, 'Tiny-Q4_K_M');
  assert.equal(final.file, 'Tiny-Q4_K_M.gguf');
  assert.ok(events.length >= 2);
  const listed = (await (await api('/api/downloads')).json()) as { downloads: DownloadState[] };
  assert.equal(listed.downloads.find((download) => download.id === started.id)?.state, 'done');
});

it('refuses bad requests with a 4xx and reports hub failures on the download', async () => {
  assert.equal((await api('/api/downloads', { method: 'POST', body: JSON.stringify({ repo: 'not a repo' }) })).status, 400);
  assert.equal((await api('/api/downloads', { method: 'POST', body: JSON.stringify({ repo: 'a/b', layers: [3, 1] }) })).status, 400);
  assert.equal((await api('/api/downloads/nope', { method: 'DELETE' })).status, 404);
  const failed = (await (await api('/api/downloads', { method: 'POST', body: JSON.stringify({ repo: 'nobody/nothing' }) })).json()) as DownloadState;
  const deadline = Date.now() + 10_000;
  let state: DownloadState | undefined;
  do {
    await new Promise((resolve) => setTimeout(resolve, 50));
    state = ((await (await api('/api/downloads')).json()) as { downloads: DownloadState[] }).downloads.find((download) => download.id === failed.id);
  } while (state?.state === 'running' && Date.now() < deadline);
  assert.equal(state?.state, 'failed');
  assert.equal(state?.error?.code, 'HUB_NOT_FOUND');
});
