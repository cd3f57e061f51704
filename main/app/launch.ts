// Finding and launching the Electron binary from plain Node (`tessera start`). This file runs
// outside Electron: it reads the path the `electron` npm package recorded for its binary and never
// loads Electron's API. The npm package throws when its binary download was skipped or failed.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../node/version.js';

export type ElectronAvailability = { available: true; binary: string; appRoot: string } | { available: false; reason: string };

/** Whether the desktop app can start here, and if not, why (one short clause). */
export function electronAvailability(env: NodeJS.ProcessEnv = process.env): ElectronAvailability {
  const binary = electronBinaryPath();
  if (binary === undefined) return { available: false, reason: 'the Electron binary is not installed' };
  const appRoot = packageRoot();
  if (!existsSync(join(appRoot, 'dist', 'main', 'app', 'main.js'))) {
    return { available: false, reason: 'the desktop app is not built (run npm run build)' };
  }
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { available: false, reason: 'there is no display ($DISPLAY is not set)' };
  }
  return { available: true, binary, appRoot };
}

/** The Electron executable, or undefined where the npm package has none. */
export function electronBinaryPath(): string | undefined {
  try {
    const path: unknown = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the desktop app until it exits; resolves to its exit code. SIGTERM is passed on to it. */
export function launchElectron(binary: string, appRoot: string, args: string[]): Promise<number> {
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would make the binary behave as plain Node
  const child = spawn(binary, [appRoot, ...args], { stdio: 'inherit', env });
  const forward = () => child.kill('SIGTERM');
  process.on('SIGTERM', forward);
  // Ctrl-C reaches the child through the terminal's process group; we only wait for it to go.
  const ignoreInterrupt = () => {};
  process.on('SIGINT', ignoreInterrupt);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', ignoreInterrupt);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
