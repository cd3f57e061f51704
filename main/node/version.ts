// The Tessera version, read from the package.json this code ships in (the same from the
// TypeScript sources and from dist/).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding Tessera's package.json (the repository root, or the app root when packaged). */
export function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, 'package.json');
    if (existsSync(candidate) && readPackageName(candidate) === 'tessera') return folder;
    const parent = dirname(folder);
    if (parent === folder) throw new Error('cannot find the tessera package.json above ' + fileURLToPath(import.meta.url));
    folder = parent;
  }
}

let cachedVersion: string | undefined;

export function tesseraVersion(): string {
  cachedVersion ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return cachedVersion;
}

function readPackageName(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}
