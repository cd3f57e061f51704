// The control API of a real headless node refuses other programs and web pages.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { startTessera, type RunningNode } from './support/tessera-process.js';

let node: RunningNode;
before(async () => (node = await startTessera()));
after(() => node?.stop());

function get(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(new URL(path, node.baseUrl), { headers }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

test('GET /api/node without the token is 401', async () => {
  const reply = await get('/api/node', {});
  assert.equal(reply.status, 401);
  assert.equal(JSON.parse(reply.body).error.code, 'UNAUTHORIZED');
});

test('GET /api/node with the token is 200', async () => {
  const reply = await get('/api/node', { authorization: `Bearer ${node.token}` });
  assert.equal(reply.status, 200);
  assert.ok(JSON.parse(reply.body).id);
});

test('a DNS-rebinding Host gets 403 even with the token', async () => {
  const reply = await get('/api/node', { authorization: `Bearer ${node.token}`, host: 'attacker.example' });
  assert.equal(reply.status, 403);
  assert.equal(JSON.parse(reply.body).error.code, 'FORBIDDEN_HOST');
});
