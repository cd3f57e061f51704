// The kernels' scalar reference must decode GGUF blocks exactly as the GGUF module does: two
// implementations written apart, checked against each other.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dequantize } from '../gguf/quant.js';
import { GGMLType } from '../gguf/types.js';
import { dequantizeReference, randomWeightBytes } from './scalar-reference.js';

for (const type of [GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]) {
  test(`scalar reference decodes ${GGMLType[type]} as gguf/quant.ts does`, () => {
    let state = type + 1;
    const random = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
    const count = 512;
    const bytes = randomWeightBytes(type, 2, count / 2, random);
    const ours = dequantizeReference(type, bytes, count);
    const theirs = dequantize(type, bytes, count);
    for (let i = 0; i < count; i++) assert.ok(Math.abs(ours[i]! - theirs[i]!) <= 1e-6 * Math.max(1, Math.abs(theirs[i]!)), `${i}: ${ours[i]} vs ${theirs[i]}`);
  });
}
