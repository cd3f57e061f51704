import test from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceLimits } from 'node:worker_threads';
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
  const limitsOf = (options: Parameters<typeof spawnWorker>[1]) => {
    const worker = spawnWorker(workerEntry(import.meta.url, 'resource-limits.fixture'), options);
    return new Promise<ResourceLimits>((resolve, reject) => {
      worker.once('message', (limits: ResourceLimits) => void worker.terminate().then(() => resolve(limits)));
      worker.once('error', reject);
    });
  };
  const [defaults, chosen] = await Promise.all([
    limitsOf({}),
    limitsOf({ resourceLimits: { maxYoungGenerationSizeMb: 32, stackSizeMb: 8 } }),
  ]);
  assert.equal(defaults.maxYoungGenerationSizeMb, WORKER_YOUNG_GENERATION_MB);
  assert.equal(chosen.maxYoungGenerationSizeMb, 32);
  assert.equal(chosen.stackSizeMb, 8);
});
