import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTesseraError } from '../../../shared/errors.js';
import { ALLOCATION_ALIGNMENT_BYTES, WasmArena } from './wasm-arena.js';

test('allocations are aligned, zeroed, and refused past the limit with a code', () => {
  const arena = new WasmArena(1 << 20, 1);
  const a = arena.allocate(10);
  const b = arena.allocate(100_000);
  assert.equal(a % ALLOCATION_ALIGNMENT_BYTES, 0);
  assert.equal(b % ALLOCATION_ALIGNMENT_BYTES, 0);
  assert.ok(b >= a + 10);
  assert.ok(arena.u8.subarray(b, b + 100_000).every((byte) => byte === 0));
  assert.throws(() => arena.allocate(1 << 20), (error) => isTesseraError(error, 'KERNEL_OUT_OF_MEMORY'));
});

test('a released region is reused, zeroed again, before the arena grows', () => {
  const arena = new WasmArena(1 << 20, 1);
  const first = arena.allocate(4096);
  const middle = arena.allocate(8192);
  const last = arena.allocate(64);
  const used = arena.usedBytes;
  arena.u8.fill(7, middle, middle + 8192);
  arena.release(middle, 8192);
  assert.equal(arena.usedBytes, used - 8192);
  // Two smaller buffers fit in it, one after the other, each zeroed.
  const reused = arena.allocate(4000);
  const next = arena.allocate(4096);
  assert.equal(reused, middle);
  assert.equal(next, middle + Math.ceil(4000 / ALLOCATION_ALIGNMENT_BYTES) * ALLOCATION_ALIGNMENT_BYTES);
  assert.ok(arena.u8.subarray(reused, reused + 4000).every((byte) => byte === 0));
  assert.ok(arena.u8.subarray(next, next + 4096).every((byte) => byte === 0));
  // 64 bytes are left of it: 128 more go past the top.
  assert.ok(arena.allocate(128) > last);
  assert.ok(first < middle);
});

test('released neighbours merge, and a region at the top lowers the top', () => {
  const arena = new WasmArena(1 << 20, 1);
  const a = arena.allocate(1024);
  const b = arena.allocate(1024);
  const c = arena.allocate(1024);
  const top = arena.allocate(1024);
  arena.release(a, 1024);
  arena.release(c, 1024);
  arena.release(b, 1024);
  // a, b and c are one region now: a request for all three fits there.
  assert.equal(arena.allocate(3 * 1024), a);
  const usedBefore = arena.usedBytes;
  arena.u8.fill(9, top, top + 1024);
  arena.release(top, 1024);
  assert.equal(arena.usedBytes, usedBefore - 1024);
  // The top came down, so the next allocation starts where the released one did, zeroed.
  const next = arena.allocate(2048);
  assert.equal(next, top);
  assert.ok(arena.u8.subarray(next, next + 2048).every((byte) => byte === 0));
});
