// A node's persistent Noise static key pair (X25519) and the node id bound to it.
// The id is derived from the public key, so a peer cannot claim another node's id: after the
// handshake proves it holds the private key, the id it claims must match that key.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { z } from 'zod';
import { TesseraError } from '../../shared/errors.js';
import { MESH_DATA_SUBDIR, readSecretFile, writeSecretFile } from './secret-file.js';

export const STATIC_KEY_FILE = 'noise-static-key.json';
const KEY_BYTES = 32;
/** Node ids are the first 16 bytes of SHA-256(public key), in hex: 32 characters. */
const NODE_ID_BYTES = 16;

export interface StaticKeyPair {
  publicKey: Buffer;
  secretKey: Buffer;
}

interface Curve25519 {
  generateKeyPair(secretKey?: Buffer): StaticKeyPair;
}
const curve = createRequire(import.meta.url)('noise-handshake/dh.js') as Curve25519;

const keyFileSchema = z.object({
  version: z.literal(1),
  publicKey: z.string().regex(/^[0-9a-f]{64}$/),
  secretKey: z.string().regex(/^[0-9a-f]{64}$/),
});

export function generateStaticKeyPair(): StaticKeyPair {
  return curve.generateKeyPair();
}

export function nodeIdFromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.byteLength !== KEY_BYTES) throw new TesseraError('MESH_AUTH_FAILED', 'a Noise public key is 32 bytes');
  return createHash('sha256').update(publicKey).digest().subarray(0, NODE_ID_BYTES).toString('hex');
}

/** Reads `<dataDir>/mesh/noise-static-key.json`, creating a fresh key pair on first start. */
export async function loadOrCreateStaticKeyPair(dataDir: string): Promise<StaticKeyPair> {
  const path = join(dataDir, MESH_DATA_SUBDIR, STATIC_KEY_FILE);
  const text = await readSecretFile(path);
  if (text === undefined) {
    const keyPair = generateStaticKeyPair();
    const contents = { version: 1, publicKey: keyPair.publicKey.toString('hex'), secretKey: keyPair.secretKey.toString('hex') };
    await writeSecretFile(path, `${JSON.stringify(contents, null, 2)}\n`);
    return keyPair;
  }
  // A damaged key is reported, never replaced silently: a new key means a new node id.
  const damaged = (cause?: unknown) =>
    new TesseraError('DATA_DIR_INVALID', `mesh key file ${path} is damaged; delete it to give this node a new key and id`, { cause });
  let parsed: z.infer<typeof keyFileSchema>;
  try {
    parsed = keyFileSchema.parse(JSON.parse(text));
  } catch (error) {
    throw damaged(error);
  }
  const keyPair = curve.generateKeyPair(Buffer.from(parsed.secretKey, 'hex'));
  if (keyPair.publicKey.toString('hex') !== parsed.publicKey) throw damaged();
  return keyPair;
}
