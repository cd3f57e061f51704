// Starts a worker thread from a module URL that works both from the TypeScript sources (tests,
// `tsx`) and from the compiled `dist/` build. Node cannot load `.ts` in a worker by itself, so a
// `.ts` entry is started through a small JS bootstrap that registers tsx first.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_BOOTSTRAP = new URL('./tsx-bootstrap.mjs', import.meta.url);

/**
 * `entry` is a sibling module resolved by the caller, e.g. `workerEntry(import.meta.url, 'engine-thread')`.
 * The bootstrap receives the real entry as its last argv element.
 */
export function spawnWorker(entry: URL, options: WorkerOptions = {}): Worker {
  if (entry.pathname.endsWith('.ts')) {
    return new Worker(TSX_BOOTSTRAP, { ...options, argv: [...(options.argv ?? []), entry.href] });
  }
  return new Worker(entry, options);
}

/** Resolves `name` next to the calling module with the caller's own extension (.ts or .js). */
export function workerEntry(callerUrl: string, name: string): URL {
  const extension = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, callerUrl);
}
