// The node's data directory: where identity, token and (later) models and settings live.
// It is created on first start; a directory we cannot write to is a clear startup error,
// not a crash halfway through.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { TesseraError } from '../../shared/errors.js';

/** `$TESSERA_HOME`, else `~/.tessera`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TESSERA_HOME?.trim();
  return fromEnv ? resolve(expandHome(fromEnv)) : join(homedir(), '.tessera');
}

/** Expands a leading `~` the way a shell would (paths from env vars and config files are not expanded for us). */
export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(homedir(), path.slice(2));
  return path;
}

/** Creates the directory if needed and proves it is writable. Throws DATA_DIR_UNWRITABLE. */
export async function prepareDataDir(dataDir: string): Promise<void> {
  const probe = join(dataDir, `.write-probe-${process.pid}`);
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (error) {
    throw new TesseraError(
      'DATA_DIR_UNWRITABLE',
      `cannot use data directory ${dataDir}: ${describeFsError(error)} (choose another with --data-dir or TESSERA_HOME)`,
      { cause: error },
    );
  }
}

/** Writes a file so readers never see half of it: write a sibling, then rename over. */
export async function writeFileAtomic(path: string, contents: string, mode = 0o600): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents, { mode });
  await rename(temporary, path);
}

export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a file is in the way (not a directory)';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
