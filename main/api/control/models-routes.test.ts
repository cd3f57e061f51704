// The Models and Server pages' routes on a real node: import a tiny random model by path, see it
// described from its header, load it, chat once (which lands in the request log), unload, delete.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { decodeControlEvent, modelsStateSchema, serverInfoSchema, type ControlEvent } from '../../../shared/control.js';
import { writeRandomModel } from '../../engine/gguf/random-model.js';
import { createNode, type TesseraNode } from '../../node/node.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-models-routes-'));
const source = join(root, 'tiny-qwen.gguf');
let node: TesseraNode;

before(async () => {
  await writeRandomModel(source, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 5 });
  node = await createNode({ dataDir: join(root, 'data'), host: '127.0.0.1', port: 0, uiDir: root, apiKey: 'sk-local', threads: 1 });
});
after(async () => {
  await node.stop();
  await rm(root, { recursive: true, force: true });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read the routes' JSON field by field
async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(`${node.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${node.token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, json: await response.json() };
}

test('import, describe, load, log a chat, unload and delete a model', async () => {
  const events: ControlEvent[] = [];
  const socket = new WebSocket(`${node.url.replace('http', 'ws')}/api/events?token=${node.token}`);
  socket.on('message', (data) => events.push(decodeControlEvent(String(data))));
  await new Promise((resolve) => socket.once('open', resolve));

  const empty = modelsStateSchema.parse((await api('/api/models')).json);
  assert.deepEqual(empty.local, []);
  assert.equal(empty.modelsDir, join(root, 'data', 'models'));

  assert.equal((await api('/api/models/import', { method: 'POST', body: { path: 'relative.gguf' } })).json.error.code, 'REQUEST_INVALID');
  const imported = await api('/api/models/import', { method: 'POST', body: { path: source } });
  assert.equal(imported.status, 200);
  assert.equal(imported.json.architecture, 'qwen3');
  assert.equal(imported.json.quant, 'Q8_0');
  assert.equal(imported.json.layers, 2);
  assert.equal(imported.json.sizeBytes, (await stat(source)).size);
  assert.equal((await api('/api/models/import', { method: 'POST', body: { path: source } })).status, 400, 'a second import of the same name is refused');

  const loaded = await api('/api/models/load', { method: 'POST', body: { path: 'tiny-qwen.gguf' } });
  assert.equal(loaded.status, 200, JSON.stringify(loaded.json));
  assert.equal(loaded.json.id, 'tiny-qwen');
  assert.deepEqual(loaded.json.layers, [0, 2]);
  assert.ok(loaded.json.weightBytes > 0 && loaded.json.weightBytes <= imported.json.sizeBytes);
  assert.ok(loaded.json.kvBytes > 0);
  assert.equal((await api('/api/models/tiny-qwen.gguf', { method: 'DELETE' })).status, 400, 'a loaded model cannot be deleted');

  const server = serverInfoSchema.parse((await api('/api/server')).json);
  assert.deepEqual(server, { openAiBaseUrl: `${node.url}/v1`, apiKeyRequired: true, apiKey: 'sk-local' });
  const chat = await fetch(`${server.openAiBaseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-local', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny-qwen', messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 }),
  });
  assert.equal(chat.status, 200);
  await chat.json();
  await fetch(`${server.openAiBaseUrl}/models`); // no key: 401, logged too
  const { requests } = (await api('/api/requests')).json;
  assert.equal(requests.length, 2);
  assert.equal(requests[0].path, '/v1/chat/completions');
  assert.equal(requests[0].model, 'tiny-qwen');
  assert.equal(requests[0].status, 200);
  assert.equal(requests[0].completionTokens, 3);
  assert.ok(requests[0].promptTokens > 0);
  assert.equal(requests[1].status, 401);
  assert.ok(events.some((event) => event.type === 'request' && event.request.path === '/v1/models'));

  const unloaded = modelsStateSchema.parse((await api('/api/models/unload', { method: 'POST', body: { id: 'tiny-qwen' } })).json);
  assert.deepEqual(unloaded.loaded, []);
  assert.equal((await api('/api/models/..%2Fsecret.gguf', { method: 'DELETE' })).status, 400);
  const deleted = modelsStateSchema.parse((await api('/api/models/tiny-qwen.gguf', { method: 'DELETE' })).json);
  assert.deepEqual(deleted.local, []);
  assert.ok(events.filter((event) => event.type === 'models').length >= 4);
  socket.close();
});

test('importing any part of a split model imports every part; a missing part is refused by name', async () => {
  const options = { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 6 } as const;
  await mkdir(join(root, 'split'));
  const parts = (await writeRandomModel(join(root, 'split', 'tiny-split.gguf'), { ...options, split: 3 })).paths;
  const broken = (await writeRandomModel(join(root, 'split', 'tiny-broken.gguf'), { ...options, split: 2 })).paths;
  await rm(broken[1]!);
  const modelsDir = join(root, 'data', 'models');
  const stored = async () => (await readdir(modelsDir)).filter((name) => !name.startsWith('.')).sort();

  const refused = await api('/api/models/import', { method: 'POST', body: { path: broken[0] } });
  assert.equal(refused.status, 400, 'a model file the caller named is the caller\'s to fix');
  assert.equal(refused.json.error.code, 'GGUF_SPLIT_PART_MISSING');
  assert.match(refused.json.error.message, /tiny-broken-00002-of-00002\.gguf/);
  assert.deepEqual(await stored(), [], 'nothing of a refused model is copied');

  const imported = await api('/api/models/import', { method: 'POST', body: { path: parts[1] } });
  assert.equal(imported.status, 200, JSON.stringify(imported.json));
  assert.deepEqual(await stored(), ['tiny-split-00001-of-00003.gguf', 'tiny-split-00002-of-00003.gguf', 'tiny-split-00003-of-00003.gguf']);
  let partBytes = 0;
  for (const part of parts) partBytes += (await stat(part)).size;
  assert.equal(imported.json.file, 'tiny-split-00001-of-00003.gguf');
  assert.equal(imported.json.sizeBytes, partBytes);
  assert.equal(imported.json.layers, 2);
  assert.equal(imported.json.error, null);
  assert.equal((await api('/api/models/import', { method: 'POST', body: { path: parts[2] } })).status, 400, 'a second import is refused');

  // Listed once, as the whole model; deleting it by any part takes every part.
  const listed = modelsStateSchema.parse((await api('/api/models')).json).local;
  assert.deepEqual(listed.map((model) => [model.file, model.sizeBytes, model.layers]), [['tiny-split-00001-of-00003.gguf', partBytes, 2]]);
  const deleted = modelsStateSchema.parse((await api('/api/models/tiny-split-00003-of-00003.gguf', { method: 'DELETE' })).json);
  assert.deepEqual(deleted.local, []);
  assert.deepEqual(await stored(), []);
});
