// The record layer between a plaintext mesh frame and one WebSocket message. A Noise transport
// message holds at most 65535 bytes, so a frame is cut into records of RECORD_PLAINTEXT_BYTES,
// each encrypted with the next nonce; the WebSocket message is the records back to back (every
// record but the last is full, so no lengths travel in clear). The frame's own length prefix sits
// in the first record: it is checked against MAX_FRAME_BYTES and against the message's size
// before anything else is decrypted, and it stops a message cut at a record boundary.
import { MAX_FRAME_BYTES } from '../../shared/mesh-protocol.js';
import { TesseraError } from '../../shared/errors.js';

/** Largest Noise transport message (Noise spec, section 3). */
export const NOISE_MAX_MESSAGE_BYTES = 65_535;
/** ChaCha20-Poly1305 authentication tag. */
export const NOISE_TAG_BYTES = 16;
export const RECORD_PLAINTEXT_BYTES = NOISE_MAX_MESSAGE_BYTES - NOISE_TAG_BYTES;
/**
 * noise-handshake's cipher writes the nonce as a u32: past this many messages it would repeat a
 * nonce, so a link is closed instead (at 64 KiB a record, that is 256 TiB on one link).
 */
export const MAX_NONCE = 2 ** 32 - 1;

/** Bytes on the wire for a plaintext frame of `plaintextBytes`. */
export function sealedLength(plaintextBytes: number): number {
  return plaintextBytes + Math.ceil(plaintextBytes / RECORD_PLAINTEXT_BYTES) * NOISE_TAG_BYTES;
}

/** Largest WebSocket message a link accepts (ws `maxPayload`): a MAX_FRAME_BYTES frame, sealed. */
export const MAX_WIRE_MESSAGE_BYTES = sealedLength(MAX_FRAME_BYTES);

/** The part of noise-handshake's CipherState the record layer uses. */
export interface NoiseCipher {
  nonce: number;
  encrypt(plaintext: Uint8Array): Buffer;
  decrypt(ciphertext: Uint8Array): Buffer;
}

function frameInvalid(message: string, cause?: unknown): TesseraError {
  return new TesseraError('MESH_FRAME_INVALID', message, cause === undefined ? undefined : { cause });
}

function checkNonce(cipher: NoiseCipher, records: number): void {
  if (cipher.nonce + records > MAX_NONCE) throw frameInvalid('link used up its nonces; reconnect');
}

export function sealFrame(cipher: NoiseCipher, frame: Uint8Array): Buffer {
  const records = Math.max(1, Math.ceil(frame.byteLength / RECORD_PLAINTEXT_BYTES));
  checkNonce(cipher, records);
  const parts: Buffer[] = [];
  for (let offset = 0; offset < frame.byteLength || parts.length === 0; offset += RECORD_PLAINTEXT_BYTES) {
    parts.push(cipher.encrypt(frame.subarray(offset, offset + RECORD_PLAINTEXT_BYTES)));
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Decrypts one WebSocket message into its plaintext frame. Throws MESH_FRAME_INVALID when the
 * message is too big, does not match its length prefix, or any record fails authentication
 * (tampered, replayed or out of order: the nonce no longer matches).
 */
export function openFrame(cipher: NoiseCipher, wire: Uint8Array): Uint8Array {
  if (wire.byteLength > MAX_WIRE_MESSAGE_BYTES) throw frameInvalid('message over MAX_FRAME_BYTES');
  if (wire.byteLength < NOISE_TAG_BYTES + 4) throw frameInvalid('message too short to hold a frame');
  const firstRecordBytes = Math.min(NOISE_MAX_MESSAGE_BYTES, wire.byteLength);
  checkNonce(cipher, 1);
  const first = decryptRecord(cipher, wire.subarray(0, firstRecordBytes));
  if (first.byteLength < 4) throw frameInvalid('first record too short');
  const total = first.readUInt32LE(0);
  if (total > MAX_FRAME_BYTES) throw frameInvalid(`frame of ${total} bytes is over MAX_FRAME_BYTES`);
  if (sealedLength(total) !== wire.byteLength) throw frameInvalid('frame length does not match the message');
  if (firstRecordBytes === wire.byteLength) return first;

  const frame = new Uint8Array(total); // fresh and 8-byte aligned, so tensor payloads can be viewed in place
  frame.set(first, 0);
  let written = first.byteLength;
  checkNonce(cipher, Math.ceil((wire.byteLength - firstRecordBytes) / NOISE_MAX_MESSAGE_BYTES));
  for (let offset = firstRecordBytes; offset < wire.byteLength; offset += NOISE_MAX_MESSAGE_BYTES) {
    const record = decryptRecord(cipher, wire.subarray(offset, offset + NOISE_MAX_MESSAGE_BYTES));
    frame.set(record, written);
    written += record.byteLength;
  }
  return frame;
}

function decryptRecord(cipher: NoiseCipher, record: Uint8Array): Buffer {
  if (record.byteLength < NOISE_TAG_BYTES) throw frameInvalid('record shorter than its tag');
  try {
    return cipher.decrypt(record);
  } catch (error) {
    throw frameInvalid('frame failed authentication (tampered, replayed or out of order)', error);
  }
}
