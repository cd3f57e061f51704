// Reading and writing the mesh's secret files (Noise key, join secret) in the data directory:
// owner-only (0600), written whole (temporary sibling, then rename) so a crash never leaves half a key.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The folder under a node's data directory where the mesh keeps its files. */
export const MESH_DATA_SUBDIR = 'mesh';

export async function writeSecretFile(path: string, contents: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, contents, { mode: 0o600 });
  await chmod(temporary, 0o600); // the mode above is masked by umask; a secret must not be
  await rename(temporary, path);
}

/** The file's text, or undefined when it does not exist. */
export async function readSecretFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
