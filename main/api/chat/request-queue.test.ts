import test from 'node:test';
import assert from 'node:assert/strict';
import { RequestQueue } from './request-queue.js';

test('one at a time, in order, bounded, and a leaving client frees its place', async () => {
  const queue = new RequestQueue(2);
  const order: string[] = [];
  const first = await queue.enter(new AbortController().signal);
  const second = queue.enter(new AbortController().signal).then((release) => (order.push('second'), release));
  const leaving = new AbortController();
  const third = queue.enter(leaving.signal);
  await assert.rejects(queue.enter(new AbortController().signal), { code: 'QUEUE_FULL' });
  leaving.abort();
  await assert.rejects(third, { code: 'GENERATION_ABORTED' });
  assert.equal(queue.length, 1);
  order.push('first done');
  first();
  (await second)();
  assert.deepEqual(order, ['first done', 'second']);
  const again = await queue.enter(new AbortController().signal);
  again();
});
