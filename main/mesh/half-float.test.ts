import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeHalf, encodeHalf } from './half-float.js';

const bitsOf = (values: number[]) => [...new Uint16Array(encodeHalf(Float32Array.from(values)).buffer)];

it('packs known values to their f16 bit patterns', () => {
  assert.deepEqual(bitsOf([0, -0, 1, -2, 0.5, 65504, 1e6, -1e6, 2 ** -24, 2 ** -14]), [
    0x0000, 0x8000, 0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0xfc00, 0x0001, 0x0400,
  ]);
  // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even one, 1.
  assert.deepEqual(bitsOf([1 + 2 ** -11, 1 + 3 * 2 ** -11]), [0x3c00, 0x3c02]);
  assert.ok(Number.isNaN(decodeHalf(encodeHalf(Float32Array.of(NaN)))[0]));
});

it('round-trips every f16 value exactly, and f32 values within half precision', () => {
  const all = new Uint16Array(65536).map((_, index) => index);
  const values = decodeHalf(new Uint8Array(all.buffer));
  const again = new Uint16Array(encodeHalf(values).buffer);
  for (let bits = 0; bits < 65536; bits++) {
    const exponent = (bits >>> 10) & 0x1f;
    if (exponent === 0x1f && (bits & 0x3ff) !== 0) continue; // NaN payloads need not survive
    assert.equal(again[bits], bits, `f16 0x${bits.toString(16)}`);
  }
  const random = Float32Array.from({ length: 4096 }, (_, index) => Math.sin(index * 12.9898) * 40);
  const back = decodeHalf(encodeHalf(random));
  for (let index = 0; index < random.length; index++) {
    assert.ok(Math.abs(back[index]! - random[index]!) <= Math.abs(random[index]!) * 2 ** -11 + 2 ** -25);
  }
});
