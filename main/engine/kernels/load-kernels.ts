// Finds and compiles the kernels once per process and variant. From the TypeScript sources
// (development and tests) it first rebuilds the files when an AssemblyScript source is newer, so
// tests never run stale kernels; from dist/ they must have been built by `npm run build:kernels`.
//
// Two variants come from the same sources (scripts/build-kernels.mjs): kernels.wasm (plain SIMD)
// and kernels-relaxed.wasm (plus relaxed SIMD, whose i8 dot product roughly doubles the speed of
// the 4- and 6-bit kernels). Node 20's V8 has relaxed SIMD behind a flag: it is switched on here,
// before the module compiles (V8 flags are per process, so worker threads see it too, and they
// receive the compiled module anyway). V8 fixes its wasm features at the first compile, so where
// other code compiled wasm before us the plain variant is used. Electron's newer V8 has it on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { TesseraError } from '../../../shared/errors.js';
import { webAssembly, type WasmGlobal, type WasmMemory, type WasmModule } from './wasm-api.js';

export type KernelVariant = 'simd' | 'relaxed-simd';

const WASM_URLS: Record<KernelVariant, URL> = {
  'simd': new URL('./build/kernels.wasm', import.meta.url),
  'relaxed-simd': new URL('./build/kernels-relaxed.wasm', import.meta.url),
};
const BUILD_SCRIPT_URL = new URL('../../../scripts/build-kernels.mjs', import.meta.url);

/** (module (func (result v128) (i32x4.relaxed_dot_i8x16_i7x16_add_s (v128.const 0) ×3))) */
const RELAXED_SIMD_PROBE = Uint8Array.from([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...[0, 1, 2].flatMap(() => [0xfd, 12, ...new Array<number>(16).fill(0)]), 0xfd, 0x93, 0x02, 11,
]);

const compiled = new Map<KernelVariant, WasmModule>();
let relaxedSupport: boolean | undefined;
let checkedBuild = false;

/** Whether this runtime runs relaxed SIMD (turning on Node 20's flag if needed). */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport !== undefined) return relaxedSupport;
  const validate = (): boolean => {
    try {
      return webAssembly.validate(RELAXED_SIMD_PROBE);
    } catch {
      return false;
    }
  };
  relaxedSupport = validate();
  if (!relaxedSupport) {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    relaxedSupport = validate();
  }
  return relaxedSupport;
}

/** The fastest variant this runtime can run. */
export function bestKernelVariant(): KernelVariant {
  return relaxedSimdSupported() ? 'relaxed-simd' : 'simd';
}

export function kernelsModule(variant: KernelVariant = 'simd'): WasmModule {
  const cached = compiled.get(variant);
  if (cached) return cached;
  // Probe first: V8 fixes its wasm features when the first module compiles, so the flag can only
  // be switched on before that.
  relaxedSimdSupported();
  if (variant === 'relaxed-simd' && !relaxedSimdSupported()) {
    throw new TesseraError('KERNEL_BAD_ARGUMENT', 'this runtime does not support relaxed SIMD');
  }
  if (import.meta.url.endsWith('.ts') && !checkedBuild) {
    execFileSync(process.execPath, [fileURLToPath(BUILD_SCRIPT_URL), '--if-stale'], { stdio: 'inherit' });
    checkedBuild = true;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(WASM_URLS[variant]);
  } catch (error) {
    throw new TesseraError('KERNELS_NOT_BUILT', `${fileURLToPath(WASM_URLS[variant])} is missing: run npm run build:kernels`, { cause: error });
  }
  const module = new webAssembly.Module(bytes);
  compiled.set(variant, module);
  return module;
}

/** The exports of the kernels module that the host calls. */
export interface KernelExports {
  heapBase(): number;
  /** Claims and runs chunks of the posted op while it carries `tag`; returns how many it ran. */
  runOp(controlAddress: number, tag: number): number;
  readonly OP_QUANTIZE: WasmGlobal;
  readonly OP_QUANTIZE_K: WasmGlobal;
  readonly OP_REPACK: WasmGlobal;
  readonly OP_TO_HALF: WasmGlobal;
  readonly OP_STORE_KV: WasmGlobal;
  readonly OP_MATMUL: WasmGlobal;
  readonly OP_EMBED: WasmGlobal;
  readonly OP_RMSNORM: WasmGlobal;
  readonly OP_ADD_BIAS: WasmGlobal;
  readonly OP_ADD: WasmGlobal;
  readonly OP_SWIGLU: WasmGlobal;
  readonly OP_ROPE: WasmGlobal;
  readonly OP_ATTENTION: WasmGlobal;
  readonly RELAXED_SIMD: WasmGlobal;
  /** Scratch bytes per chunk of a matmul op over `cols` columns. */
  matmulScratchBytes(cols: number): number;
}

export function instantiateKernels(module: WasmModule, memory: WasmMemory): KernelExports {
  const instance = new webAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
