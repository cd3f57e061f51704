// The cluster's join secret: what a user types (or pastes) on each machine to let it join.
// Generated on first start when none is given, stored in the data directory, and turned into the
// Noise pre-shared key with scrypt, a standard KDF, so a short user-chosen secret is slow to guess
// offline from a recorded handshake.
import { randomBytes, scrypt } from 'node:crypto';
import { join } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import { MESH_DATA_SUBDIR, readSecretFile, writeSecretFile } from './secret-file.js';

export const JOIN_SECRET_FILE = 'join-secret';
/** Shortest secret accepted (after normalising), characters. */
export const MIN_JOIN_SECRET_LENGTH = 8;
export const MAX_JOIN_SECRET_LENGTH = 256;

/** Crockford's base32 alphabet: no I, L, O, U, so a secret read aloud or copied by hand survives. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 5 groups of 5 characters: 125 bits of entropy. */
const GROUPS = 5;
const GROUP_LENGTH = 5;

/**
 * Fixed, public KDF parameters; changing any of them splits clusters, so they are part of the
 * protocol. Salt is constant on purpose: every node of a cluster must derive the same key from
 * the secret alone. N = 2^15, r = 8 costs ~32 MiB and ~0.1 s once per start.
 */
export const PSK_KDF = {
  salt: 'tessera-mesh-psk-v1',
  keyLength: 32,
  N: 2 ** 15,
  r: 8,
  p: 1,
  maxmem: 64 * 1024 * 1024,
} as const;

/** A fresh secret like `k3f9q-7mzv2-...`: 25 base32 characters in groups of five. */
export function generateJoinSecret(): string {
  const bytes = randomBytes(GROUPS * GROUP_LENGTH);
  const characters = Array.from(bytes, (byte) => ALPHABET[byte & 31]);
  const groups: string[] = [];
  for (let group = 0; group < GROUPS; group++) {
    groups.push(characters.slice(group * GROUP_LENGTH, (group + 1) * GROUP_LENGTH).join(''));
  }
  return groups.join('-');
}

/**
 * The form the key is derived from: case, spaces and dashes do not matter, so "K3F9Q 7MZV2" and
 * "k3f9q-7mzv2" join the same cluster. Throws JOIN_SECRET_INVALID when too short or too long.
 */
export function normalizeJoinSecret(secret: string): string {
  const normalized = secret.normalize('NFKC').toLowerCase().replace(/[\s-]+/g, '');
  if (normalized.length < MIN_JOIN_SECRET_LENGTH || normalized.length > MAX_JOIN_SECRET_LENGTH) {
    throw new TesseraError(
      'JOIN_SECRET_INVALID',
      `a join secret needs ${MIN_JOIN_SECRET_LENGTH} to ${MAX_JOIN_SECRET_LENGTH} characters (spaces and dashes not counted)`,
    );
  }
  return normalized;
}

/** The 32-byte Noise pre-shared key for a join secret. */
export function derivePresharedKey(secret: string): Promise<Buffer> {
  const { salt, keyLength, N, r, p, maxmem } = PSK_KDF;
  return new Promise((resolve, reject) => {
    scrypt(normalizeJoinSecret(secret), salt, keyLength, { N, r, p, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * The secret this node uses: `given` (validated and saved, replacing the stored one), else the
 * stored one, else a new one (saved). `created` tells the caller to show it to the user.
 */
export async function loadOrCreateJoinSecret(
  dataDir: string,
  given?: string,
): Promise<{ secret: string; created: boolean }> {
  const path = join(dataDir, MESH_DATA_SUBDIR, JOIN_SECRET_FILE);
  if (given !== undefined) {
    const secret = given.trim();
    normalizeJoinSecret(secret);
    const stored = (await readSecretFile(path))?.trim();
    if (stored !== secret) await writeSecretFile(path, `${secret}\n`);
    return { secret, created: false };
  }
  const stored = (await readSecretFile(path))?.trim();
  if (stored) {
    try {
      normalizeJoinSecret(stored);
    } catch (error) {
      throw new TesseraError('DATA_DIR_INVALID', `join secret file ${path} is damaged; set a secret with --join`, { cause: error });
    }
    return { secret: stored, created: false };
  }
  const secret = generateJoinSecret();
  await writeSecretFile(path, `${secret}\n`);
  return { secret, created: true };
}
