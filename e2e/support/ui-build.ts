// The e2e UI tests need the built UI (dist/renderer). Build it when it is missing or older than
// the renderer's sources, so `npm test` never tests a stale UI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './tessera-process.js';

function newestChange(folder: string): number {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export function ensureUiBuilt(): void {
  const built = join(REPOSITORY_ROOT, 'dist', 'renderer', 'index.html');
  const sources = Math.max(newestChange(join(REPOSITORY_ROOT, 'renderer')), statSync(join(REPOSITORY_ROOT, 'shared', 'control.ts')).mtimeMs);
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const vite = join(REPOSITORY_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPOSITORY_ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('building the UI (vite build) failed');
}
