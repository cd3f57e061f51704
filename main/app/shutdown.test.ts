import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createNode } from '../node/node.js';
import { NodeShutdown, onTerminationSignals, type TerminationSignal } from './shutdown.js';

test('quitting stops a real node once, however often it is asked, and waits for it', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tessera-shutdown-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const node = await createNode({ dataDir: join(root, 'data'), host: '127.0.0.1', port: 0, uiDir: root, mesh: { port: 0, discovery: false } });
  let stops = 0;
  const shutdown = new NodeShutdown(() => {
    stops++;
    return node.stop();
  });
  assert.equal((await fetch(`${node.url}/health`)).status, 200);
  assert.equal(shutdown.started, false);
  const [first, second] = await Promise.all([shutdown.run(), shutdown.run()]);
  assert.deepEqual(first, { state: 'stopped' });
  assert.equal(second, first);
  assert.equal(stops, 1);
  assert.deepEqual(shutdown.outcome, { state: 'stopped' });
  // Stopped means stopped: the HTTP server no longer answers.
  await assert.rejects(fetch(`${node.url}/health`));
});

test('a node that fails or hangs while stopping still lets the app exit, with the reason', async () => {
  const failed = await new NodeShutdown(() => Promise.reject(new Error('socket stuck'))).run();
  assert.equal(failed.state, 'failed');
  assert.match(String((failed as { error: unknown }).error), /socket stuck/);
  const started = Date.now();
  const hung = await new NodeShutdown(() => new Promise<void>(() => {}), 50).run();
  assert.deepEqual(hung, { state: 'timed-out', afterMs: 50 });
  assert.ok(Date.now() - started < 2000);
});

test('SIGTERM, SIGINT and SIGHUP reach the handler instead of killing the process', { skip: process.platform === 'win32' && 'Windows has no catchable SIGTERM from process.kill' }, async () => {
  const listenersBefore = process.listenerCount('SIGTERM');
  const received: TerminationSignal[] = [];
  const undo = onTerminationSignals((signal) => received.push(signal));
  try {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.kill(process.pid, signal);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    undo();
  }
  assert.deepEqual(received, ['SIGTERM', 'SIGINT', 'SIGHUP']);
  assert.equal(process.listenerCount('SIGTERM'), listenersBefore);
});
