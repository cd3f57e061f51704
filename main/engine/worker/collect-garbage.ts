// One full garbage collection, for the one moment it pays: the end of a model load. A load leaves
// ~20 MiB of garbage on the engine thread that has outlived the nursery (the header's read
// buffer, the file's merge strings, the weight streaming buffer), and V8 collects such garbage
// when it sees the thread idle for a while; an engine that goes straight into a prompt keeps it
// resident, at the peak, until then.
//
// V8 hands `gc` only to contexts created while --expose-gc is set, so the flag (per process) is
// set just long enough to create one, then put back. Where that yields no function, this does
// nothing: collecting early is an optimisation, never needed for correctness. Inside Electron it
// is not tried at all: an embedder may freeze V8's flags after start-up, and setting one then
// aborts the process; its idle-time collection frees the same memory a little later.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** Collects all garbage of the calling thread's heap now (a few ms for an engine thread). */
export function collectGarbage(): void {
  collect ??= exposedGc();
  collect?.();
}

function exposedGc(): (() => void) | undefined {
  // Started with --expose-gc: use it, and leave the flag as it is.
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as () => void;
  if (process.versions.electron !== undefined) return undefined;
  setFlagsFromString('--expose-gc');
  try {
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    // No `gc` in the new context (another thread put the flag back first): try again next time.
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
