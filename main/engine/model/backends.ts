// Picks the compute backend an engine runs on: the WASM SIMD backend by default, the scalar
// reference backend when asked (tests compare the two; it is also the fallback for debugging).

import type { ComputeBackend } from '../backend.js';
import { WasmBackend } from '../kernels/wasm-backend.js';
import { ReferenceBackend } from './reference-backend.js';

export type BackendKind = 'wasm' | 'reference';

export interface CreateBackendOptions {
  /** Default 'wasm'. */
  readonly kind?: BackendKind;
  /** Threads the WASM backend splits work over (default: the machine's parallelism). */
  readonly threads?: number;
}

export async function createBackend(options: CreateBackendOptions = {}): Promise<ComputeBackend> {
  if (options.kind === 'reference') return new ReferenceBackend();
  return WasmBackend.create({ threads: options.threads });
}
