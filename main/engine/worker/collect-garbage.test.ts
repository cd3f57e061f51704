import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collectGarbage } from './collect-garbage.js';

test('frees unreachable objects at once and leaves --expose-gc as it was', () => {
  const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  // Old enough to have left the nursery, as a load's garbage has.
  const held: { strings?: string[] } = { strings: Array.from({ length: 200_000 }, (_, i) => `garbage ${i} ${'x'.repeat(i % 32)}`) };
  collectGarbage();
  const holding = getHeapStatistics().used_heap_size;
  assert.equal(held.strings?.length, 200_000);
  delete held.strings;
  collectGarbage();
  const freed = holding - getHeapStatistics().used_heap_size;
  assert.ok(freed > 8 * 1024 * 1024, `freed only ${freed} bytes`);
  assert.equal(runInNewContext('typeof gc') === 'function', hadGc);
});
