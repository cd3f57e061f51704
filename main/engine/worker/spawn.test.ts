import test from 'node:test';
import assert from 'node:assert/strict';
import { WORKER_YOUNG_GENERATION_MB, spawnWorker, workerEntry } from './spawn.js';

test('a TypeScript worker entry runs from the sources', async () => {
  const worker = spawnWorker(workerEntry(import.meta.url, 'spawn.fixture'), { workerData: { value: 41 } });
  const reply = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(reply, 42);
  await worker.terminate();
});

test('workers get a small nursery unless the caller sets their limits', async () => {
  const defaults = spawnWorker(workerEntry(import.meta.url, 'spawn.fixture'), { workerData: { value: 1 } });
  const chosen = spawnWorker(workerEntry(import.meta.url, 'spawn.fixture'), {
    workerData: { value: 1 },
    resourceLimits: { maxYoungGenerationSizeMb: 32, stackSizeMb: 8 },
  });
  try {
    await Promise.all([defaults, chosen].map((worker) => new Promise((resolve) => worker.once('message', resolve))));
    assert.equal(defaults.resourceLimits?.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB);
    assert.equal(chosen.resourceLimits?.maxYoungGenerationSizeMb, 32);
    assert.equal(chosen.resourceLimits?.stackSizeMb, 8);
  } finally {
    await Promise.all([defaults.terminate(), chosen.terminate()]);
  }
});
