// The control block through which the calling thread hands an op to every lane. Mirrors the
// comment at the top of assembly/index.ts: change both together. Op codes are not repeated
// here: they are read from the module's exported OP_* globals.
import type { WasmMemory, WasmModule } from './wasm-api.js';

/** Bytes reserved for the control block (a few cache lines, so counters do not share one line). */
export const CONTROL_BLOCK_BYTES = 256;

/** Int32 word indices inside the control block. */
export const CONTROL_GENERATION = 0;
export const CONTROL_DONE = 16;
export const CONTROL_ERROR = 17;
export const CONTROL_OP = 32;
export const CONTROL_ARGUMENTS = 33;
/** Arguments an op may take. */
export const CONTROL_MAX_ARGUMENTS = 24;

/** Op code that tells workers to leave their loop (not a kernel). */
export const OP_EXIT = -1;

/** Data a kernel worker is started with. */
export interface KernelWorkerData {
  readonly module: WasmModule;
  readonly memory: WasmMemory;
  /** Byte address of the control block in `memory`. */
  readonly controlAddress: number;
  /** This worker's lane index (the calling thread is lane 0). */
  readonly lane: number;
  readonly lanes: number;
  /** Iterations to poll for the next op before sleeping in Atomics.wait. */
  readonly spinIterations: number;
}
