import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnWorker, workerEntry } from './spawn.js';

test('a TypeScript worker entry runs from the sources', async () => {
  const worker = spawnWorker(workerEntry(import.meta.url, 'spawn.fixture'), { workerData: { value: 41 } });
  const reply = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(reply, 42);
  await worker.terminate();
});
