// The e2e UI tests need the built UI (dist/renderer). Build it once if it is missing, so
// `npm test` works in a checkout that skipped `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './tessera-process.js';

export function ensureUiBuilt(): void {
  if (existsSync(join(REPOSITORY_ROOT, 'dist', 'renderer', 'index.html'))) return;
  const vite = join(REPOSITORY_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const result = spawnSync(process.execPath, [vite, 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPOSITORY_ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('building the UI (vite build) failed');
}
