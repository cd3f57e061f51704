// The control block through which the calling thread hands an op to every lane. Mirrors the
// comment at the top of assembly/index.ts: change both together. Op codes are not repeated
// here: they are read from the module's exported OP_* globals.
//
// Every arena (wasm memory) has its own control block, since a kernel instance can only read its
// own memory. The wake-up word (generation) and the arena of the current op live in arena 0's
// block only. An op is cut into chunks that lanes claim one at a time from CONTROL_CLAIM
// (compare-and-swap on `tag << CLAIM_TAG_SHIFT | next chunk`), so a lane the OS descheduled
// never holds the others up: whoever is running takes the remaining chunks. The tag is the
// generation the op was posted under; a lane that woke for an older op finds a different tag and
// claims nothing, so it can never run a chunk with stale arguments.
import type { WasmMemory, WasmModule } from './wasm-api.js';

/** Bytes reserved for the control block (a few cache lines, so counters do not share one line). */
export const CONTROL_BLOCK_BYTES = 256;

/** Int32 word indices inside the control block. */
export const CONTROL_GENERATION = 0;
export const CONTROL_ARENA = 1;
export const CONTROL_DONE = 16;
export const CONTROL_ERROR = 17;
export const CONTROL_CLAIM = 18;
export const CONTROL_CHUNKS = 19;
export const CONTROL_OP = 32;
export const CONTROL_ARGUMENTS = 33;
/** Arguments an op may take. */
export const CONTROL_MAX_ARGUMENTS = 24;

/** The claim word keeps the chunk index in its low 20 bits and the op's tag above them. */
export const CLAIM_TAG_SHIFT = 20;
export const CLAIM_TAG_MASK = 0xfff;
/** Most chunks one op may be cut into. */
export const MAX_CHUNKS = 1 << CLAIM_TAG_SHIFT;

/** Op code that tells workers to leave their loop (not a kernel). */
export const OP_EXIT = -1;

/** The tag that ops posted under `generation` carry. */
export function claimTag(generation: number): number {
  return generation & CLAIM_TAG_MASK;
}

/** One arena as a worker needs it: its memory and the address of its control block. */
export interface ArenaHandle {
  readonly memory: WasmMemory;
  readonly controlAddress: number;
}

/** Data a kernel worker is started with. */
export interface KernelWorkerData {
  readonly module: WasmModule;
  /** Arena 0 (its control block carries the generation counter). */
  readonly arena: ArenaHandle;
  /** Port on which the worker receives further arenas ({ memory, controlAddress }), in order. */
  readonly arenaPort: import('node:worker_threads').MessagePort;
  /** This worker's lane index (the calling thread is lane 0). */
  readonly lane: number;
  /** Iterations to poll for the next op before sleeping in Atomics.wait. */
  readonly spinIterations: number;
}
