// A small seeded PRNG (mulberry32): the same seed gives the same stream on every platform, so a
// request with `seed` samples the same tokens again. Unseeded samplers draw their seed from crypto.

import { randomInt } from 'node:crypto';

export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
}

export function createRandom(seed?: number): RandomSource {
  let state = (seed ?? randomInt(0, 2 ** 32 - 1)) >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
