import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { it } from 'node:test';
import { LoadProgressBoard, loadFraction } from './load-progress.js';

it('tracks each device of a load, publishes state changes at once and byte counts throttled', async () => {
  let published = 0;
  const board = new LoadProgressBoard(() => published++, { publishMs: 100 });
  board.begin('m');
  assert.equal(published, 1);
  board.update('m', 'a', { state: 'loading', fraction: 0 });
  board.update('m', 'b', { state: 'loading', fraction: 0 });
  assert.equal(published, 3, 'a new device is news');
  for (let step = 1; step <= 10; step++) board.update('m', 'a', { fraction: step / 20, loadedBytes: step * 10, totalBytes: 200 });
  assert.equal(published, 3, 'a burst of byte counts waits for the interval');
  await sleep(150);
  assert.equal(published, 4, 'then goes out once');
  assert.deepEqual(board.list()[0]!.devices.find((device) => device.nodeId === 'a'), {
    nodeId: 'a', state: 'loading', fraction: 0.5, loadedBytes: 100, totalBytes: 200, error: null,
  });
  board.update('m', 'b', { state: 'ready' });
  assert.equal(published, 5);
  assert.equal(board.list()[0]!.devices.find((device) => device.nodeId === 'b')!.fraction, 1, 'ready is 100%');
  board.update('m', 'a', { state: 'failed', error: 'disk' });
  assert.equal(board.list()[0]!.devices.find((device) => device.nodeId === 'a')!.error, 'disk');
  board.end('m');
  assert.deepEqual(board.list(), []);
  board.update('m', 'a', { fraction: 0.9 });
  assert.deepEqual(board.list(), [], 'a late report of an ended load is dropped');
  board.dispose();
});

it('turns byte counts into a fraction in [0, 1]', () => {
  assert.equal(loadFraction(50, 200), 0.25);
  assert.equal(loadFraction(5, 0), 0);
  assert.equal(loadFraction(300, 200), 1);
});
