// The composed node as it runs: a real HTTP server on a free port, real files in a temp data dir.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { decodeControlEvent, nodeInfoSchema, type ControlEvent } from '../../shared/control.js';
import { isTesseraError } from '../../shared/errors.js';
import { MAX_CONTROL_REQUEST_BODY_BYTES } from '../api/limits.js';
import { createNode, type TesseraNode } from './node.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-node-'));
const uiDir = join(root, 'ui');
let node: TesseraNode;

before(async () => {
  await mkdir(join(uiDir, 'assets'), { recursive: true });
  await writeFile(join(uiDir, 'index.html'), '<!doctype html><title>ui</title>');
  await writeFile(join(uiDir, 'assets', 'app-1234.js'), 'console.log(1)');
  await writeFile(join(root, 'secret.txt'), 'outside the UI folder');
  node = await createNode({ dataDir: join(root, 'data'), host: '127.0.0.1', port: 0, uiDir, deviceSampleIntervalMs: 30 });
});
after(async () => {
  await node.stop();
  await rm(root, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch, because fetch will not send a forged Host header. */
function call(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const url = new URL(path, node.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
const auth = () => ({ authorization: `Bearer ${node.token}` });

test('GET /api/node returns identity, version and live device figures', async () => {
  const reply = await call('/api/node', { headers: auth() });
  assert.equal(reply.status, 200);
  const info = nodeInfoSchema.parse(JSON.parse(reply.body));
  assert.equal(info.id, node.info().id);
  assert.equal(info.name, hostname().slice(0, 64));
  assert.equal(info.device.hostname, hostname());
  assert.match(info.version, /^\d+\.\d+\.\d+/);
});

test('/api refuses a missing or wrong token with 401 and a coded JSON error', async () => {
  for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
    const reply = await call('/api/node', { headers });
    assert.equal(reply.status, 401);
    assert.equal(reply.headers['www-authenticate'], 'Bearer realm="tessera"');
    assert.equal(JSON.parse(reply.body).error.code, 'UNAUTHORIZED');
  }
});

test('a foreign Host header gets 403 everywhere, even with the token', async () => {
  for (const path of ['/api/node', '/', '/v1/models']) {
    const reply = await call(path, { headers: { ...auth(), host: `evil.example:${node.http.port}` } });
    assert.equal(reply.status, 403, path);
    assert.equal(JSON.parse(reply.body).error.code, 'FORBIDDEN_HOST');
  }
});

test('PATCH /api/node renames the node, persists it, and validates the body', async () => {
  const headers = { ...auth(), 'content-type': 'application/json' };
  const renamed = await call('/api/node', { method: 'PATCH', headers, body: JSON.stringify({ name: '  studio  ' }) });
  assert.equal(renamed.status, 200);
  assert.equal(JSON.parse(renamed.body).name, 'studio');
  assert.equal(node.info().name, 'studio');

  const empty = await call('/api/node', { method: 'PATCH', headers, body: JSON.stringify({ name: '' }) });
  assert.equal(empty.status, 400);
  assert.equal(JSON.parse(empty.body).error.code, 'REQUEST_INVALID');

  const huge = await call('/api/node', { method: 'PATCH', headers, body: JSON.stringify({ name: 'x'.repeat(MAX_CONTROL_REQUEST_BODY_BYTES) }) });
  assert.equal(huge.status, 413);
  assert.equal(JSON.parse(huge.body).error.code, 'REQUEST_TOO_LARGE');

  const wrongMethod = await call('/api/node', { method: 'DELETE', headers: auth() });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.allow, 'GET, PATCH');
});

test('the UI is served with a CSP; unknown app paths fall back to index.html; no escaping the folder', async () => {
  const index = await call('/');
  assert.equal(index.status, 200);
  assert.match(index.body, /<title>ui<\/title>/);
  assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
  assert.equal((await call('/devices')).body, index.body);
  const asset = await call('/assets/app-1234.js');
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await call('/missing.js')).status, 404);
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
    const reply = await call(path);
    assert.doesNotMatch(reply.body, /outside the UI folder/, path);
  }
});

test('the OpenAI API is mounted at /v1 and /health answers, both without the node token', async () => {
  assert.deepEqual(JSON.parse((await call('/v1/models')).body), { object: 'list', data: [] });
  assert.deepEqual(JSON.parse((await call('/health')).body), { status: 'ok', models: [] });
  assert.throws(() => node.http.mount('/v1', { handleRequest: () => undefined }), (error) => isTesseraError(error, 'INTERNAL'));
});

function openEvents(query: string, headers: Record<string, string> = {}): WebSocket {
  return new WebSocket(`${node.url.replace('http', 'ws')}/api/events${query}`, { headers });
}

test('the events socket sends hello, then device updates and renames', async () => {
  const socket = openEvents(`?token=${node.token}`);
  const events: ControlEvent[] = [];
  socket.on('message', (data) => events.push(decodeControlEvent(String(data))));
  await new Promise((resolve) => socket.once('open', resolve));
  await new Promise((resolve) => setTimeout(resolve, 150));
  await node.rename('after-rename');
  await new Promise((resolve) => setTimeout(resolve, 20));
  socket.close();
  assert.equal(events[0]?.type, 'hello');
  assert.ok(events.filter((event) => event.type === 'device').length >= 2);
  const renamed = events.find((event) => event.type === 'node');
  assert.equal(renamed?.type === 'node' && renamed.node.name, 'after-rename');
});

test('the events socket refuses a missing token (401) and a foreign Origin (403)', async () => {
  const refusal = (socket: WebSocket) =>
    new Promise<number>((resolve) => socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
  assert.equal(await refusal(openEvents('')), 401);
  assert.equal(await refusal(openEvents('?token=nope')), 401);
  assert.equal(await refusal(openEvents(`?token=${node.token}`, { origin: 'http://evil.example' })), 403);
});

test('a second node on the same port fails with PORT_IN_USE', async () => {
  await assert.rejects(
    createNode({ dataDir: join(root, 'data-2'), host: '127.0.0.1', port: node.http.port, uiDir }),
    (error) => isTesseraError(error, 'PORT_IN_USE'),
  );
});
