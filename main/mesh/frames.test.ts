import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import { MAX_FRAME_BYTES } from '../../shared/mesh-protocol.js';
import { NOISE_MAX_MESSAGE_BYTES, RECORD_PLAINTEXT_BYTES, openFrame, sealFrame, sealedLength, type NoiseCipher } from './frames.js';

const Cipher = createRequire(import.meta.url)('noise-handshake/cipher.js') as new (key: Uint8Array) => NoiseCipher;

function cipherPair(): [NoiseCipher, NoiseCipher] {
  const key = randomBytes(32);
  return [new Cipher(key), new Cipher(key)];
}

/** A plaintext frame: u32 total length, then filler. */
function frameOf(length: number): Uint8Array {
  const frame = Uint8Array.from({ length }, (_, index) => (index * 7) % 256);
  new DataView(frame.buffer).setUint32(0, length, true);
  return frame;
}

const invalid = (error: unknown) => isTesseraError(error, 'MESH_FRAME_INVALID');

describe('frame records', () => {
  it('seals and opens frames of one and many records', () => {
    const [send, receive] = cipherPair();
    for (const length of [5, RECORD_PLAINTEXT_BYTES, RECORD_PLAINTEXT_BYTES + 1, 3 * RECORD_PLAINTEXT_BYTES + 100]) {
      const frame = frameOf(length);
      const wire = sealFrame(send, frame);
      assert.equal(wire.byteLength, sealedLength(length));
      assert.ok(Buffer.from(openFrame(receive, wire)).equals(frame), `length ${length}`);
    }
  });

  it('refuses a tampered, replayed or truncated message', () => {
    const [send, receive] = cipherPair();
    const wire = sealFrame(send, frameOf(2 * RECORD_PLAINTEXT_BYTES + 10));
    const tampered = Buffer.from(wire);
    tampered[NOISE_MAX_MESSAGE_BYTES + 5]! ^= 1;
    assert.throws(() => openFrame(receive, tampered), invalid);

    const [send2, receive2] = cipherPair();
    const first = sealFrame(send2, frameOf(100));
    assert.equal(openFrame(receive2, first).byteLength, 100);
    assert.throws(() => openFrame(receive2, first), invalid); // same bytes again: stale nonce

    const [send3, receive3] = cipherPair();
    const long = sealFrame(send3, frameOf(2 * RECORD_PLAINTEXT_BYTES + 10));
    assert.throws(() => openFrame(receive3, long.subarray(0, 2 * NOISE_MAX_MESSAGE_BYTES)), invalid); // cut at a record boundary
  });

  it('refuses a frame declaring more than MAX_FRAME_BYTES before decrypting the rest', () => {
    const [send, receive] = cipherPair();
    const header = new Uint8Array(64);
    new DataView(header.buffer).setUint32(0, MAX_FRAME_BYTES + 1, true);
    const wire = send.encrypt(header);
    assert.throws(() => openFrame(receive, wire), (error) => invalid(error) && /MAX_FRAME_BYTES/.test((error as Error).message));
  });
});
