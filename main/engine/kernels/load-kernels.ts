// Finds and compiles kernels.wasm once per thread. From the TypeScript sources (development and
// tests) it first rebuilds the file when an AssemblyScript source is newer, so tests never run
// stale kernels; from dist/ the file must have been built by `npm run build:kernels`.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '../../../shared/errors.js';
import { webAssembly, type WasmGlobal, type WasmMemory, type WasmModule } from './wasm-api.js';

const WASM_URL = new URL('./build/kernels.wasm', import.meta.url);
const BUILD_SCRIPT_URL = new URL('../../../scripts/build-kernels.mjs', import.meta.url);

let compiled: WasmModule | undefined;

export function kernelsModule(): WasmModule {
  if (compiled) return compiled;
  if (import.meta.url.endsWith('.ts')) {
    execFileSync(process.execPath, [fileURLToPath(BUILD_SCRIPT_URL), '--if-stale'], { stdio: 'inherit' });
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(WASM_URL);
  } catch (error) {
    throw new TesseraError('KERNELS_NOT_BUILT', `${fileURLToPath(WASM_URL)} is missing: run npm run build:kernels`, { cause: error });
  }
  compiled = new webAssembly.Module(bytes);
  return compiled;
}

/** The exports of kernels.wasm that the host calls. */
export interface KernelExports {
  heapBase(): number;
  runOp(controlAddress: number, lane: number, nLanes: number): void;
  readonly OP_QUANTIZE: WasmGlobal;
  readonly OP_MATMUL: WasmGlobal;
  readonly OP_EMBED: WasmGlobal;
  readonly OP_RMSNORM: WasmGlobal;
  readonly OP_ADD_BIAS: WasmGlobal;
  readonly OP_ADD: WasmGlobal;
  readonly OP_SWIGLU: WasmGlobal;
  readonly OP_ROPE: WasmGlobal;
  readonly OP_ATTENTION: WasmGlobal;
}

export function instantiateKernels(module: WasmModule, memory: WasmMemory): KernelExports {
  const instance = new webAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
