// Starts a worker thread from a module URL that works both from the TypeScript sources (tests,
// `tsx`) and from the compiled `dist/` build. Node cannot load `.ts` in a worker by itself, so a
// `.ts` entry is started through a small JS bootstrap that registers tsx first.
import { Worker, type WorkerOptions } from 'node:worker_threads';

const TSX_BOOTSTRAP = new URL('./tsx-bootstrap.mjs', import.meta.url);

/**
 * The young generation (V8's nursery) of each worker, unless the caller sets its own. Our threads
 * keep long-lived tables and compute in WASM memory, so they make little short-lived garbage; but
 * at V8's default (16 MiB semi-spaces) a model load, whose 300 000 vocabulary strings all
 * survive, grows the nursery to its largest, and V8 keeps those pages until it has seen the
 * thread idle for a while (~15 s): ~20 MiB more resident per engine thread through the first
 * requests (a 32 MiB nursery, against 8 MiB at a cap of 8). At 4 the engine thread of a Qwen3
 * 0.6B load keeps 7.5 MiB less through a 512-token prefill, and loads no slower.
 * A smaller nursery only means more, shorter scavenges; it limits nothing that can run out.
 */
export const WORKER_YOUNG_GENERATION_MB = 4;

/**
 * `entry` is a sibling module resolved by the caller, e.g. `workerEntry(import.meta.url, 'engine-thread')`.
 * The bootstrap receives the real entry as its last argv element.
 */
export function spawnWorker(entry: URL, workerOptions: WorkerOptions = {}): Worker {
  const options: WorkerOptions = {
    ...workerOptions,
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, ...workerOptions.resourceLimits },
  };
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
