// The node token guards the control API against other programs and web pages on this machine.
// It is made once, kept owner-readable only (0600) in the data directory, and handed to the UI
// through the Electron preload or the `?token=` URL that `tessera serve` prints.
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const TOKEN_FILE = 'control-token';
/** 32 random bytes: far beyond guessing. */
const TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43,}$/;

export async function loadOrCreateToken(dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE);
  const existing = await readTokenFile(path);
  if (existing !== undefined) {
    await restrictToOwner(path);
    return existing;
  }
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  await restrictToOwner(path); // the mode above is filtered by the umask; be explicit
  return token;
}

async function readTokenFile(path: string): Promise<string | undefined> {
  try {
    const token = (await readFile(path, 'utf8')).trim();
    // A short or mangled token is replaced: it guards nothing worth keeping.
    return TOKEN_PATTERN.test(token) ? token : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function restrictToOwner(path: string): Promise<void> {
  if (process.platform === 'win32') return; // POSIX modes mean little there; the profile dir is private
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, 0o600);
}
