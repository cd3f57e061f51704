// The chunk-claiming protocol of kernel-abi.ts, driven directly on one kernel instance: a lane
// holding another op's tag claims nothing, and every chunk runs exactly once whoever claims it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLAIM_TAG_SHIFT, CONTROL_ARGUMENTS, CONTROL_BLOCK_BYTES, CONTROL_CHUNKS, CONTROL_CLAIM, CONTROL_DONE, CONTROL_OP, claimTag } from './kernel-abi.js';
import { instantiateKernels, kernelsModule } from './load-kernels.js';
import { WasmArena } from './wasm-arena.js';

test('a lane with a stale tag claims no chunk; the current tag runs each chunk once', () => {
  const arena = new WasmArena();
  const kernels = instantiateKernels(kernelsModule('simd'), arena.memory);
  arena.reserveBelow(kernels.heapBase());
  const control = arena.allocate(CONTROL_BLOCK_BYTES);
  const length = 1000, chunks = 7;
  const a = arena.allocate(length * 4), b = arena.allocate(length * 4), out = arena.allocate(length * 4);
  arena.f32.set(Float32Array.from({ length }, (_, i) => i), a / 4);
  arena.f32.set(Float32Array.from({ length }, () => 0.5), b / 4);
  const words = arena.i32, base = control / 4;
  words[base + CONTROL_OP] = kernels.OP_ADD.value as number;
  words.set([out, a, b, length], base + CONTROL_ARGUMENTS);
  const generation = 4097;
  words[base + CONTROL_CHUNKS] = chunks;
  words[base + CONTROL_DONE] = 0;
  words[base + CONTROL_CLAIM] = claimTag(generation) << CLAIM_TAG_SHIFT;

  assert.equal(kernels.runOp(control, claimTag(generation - 1)), 0, 'a lane that woke for the previous op');
  assert.equal(words[base + CONTROL_DONE], 0);
  assert.ok(arena.f32.subarray(out / 4, out / 4 + length).every((v) => v === 0), 'nothing written');

  assert.equal(kernels.runOp(control, claimTag(generation)), chunks);
  assert.equal(words[base + CONTROL_DONE], chunks);
  assert.equal(kernels.runOp(control, claimTag(generation)), 0, 'no chunk is left to claim');
  assert.deepEqual([...arena.f32.subarray(out / 4, out / 4 + length)], Array.from({ length }, (_, i) => i + 0.5));
});
