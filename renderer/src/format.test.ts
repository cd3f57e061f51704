import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatDuration, formatRate, percent } from './format.js';

test('formatBytes picks binary units with one decimal', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(16 * 1024 ** 3), '16.0 GiB');
  assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB');
});

test('percent and durations', () => {
  assert.equal(percent(1, 3), 33);
  assert.equal(percent(1, 0), 0);
  assert.equal(formatDuration(12.7), '12 s');
  assert.equal(formatDuration(300), '5 min');
  assert.equal(formatDuration(3 * 3600 + 240), '3 h 4 min');
});

test('rates: one decimal, a dash when the node does not report one', () => {
  assert.equal(formatRate(12.345), '12.3');
  assert.equal(formatRate(0), '0.0');
  assert.equal(formatRate(null), '—');
  assert.equal(formatRate(undefined), '—');
});
