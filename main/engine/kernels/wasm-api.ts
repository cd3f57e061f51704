// The few WebAssembly JS-API types the kernels use. The project's TypeScript libs (ES2023, no DOM,
// @types/node 20) do not declare the global `WebAssembly`, so it is typed here once.

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

/** A compiled module: opaque, and cloneable to worker threads. */
export interface WasmModule {
  readonly __wasmModule?: never;
}

export interface WasmGlobal {
  readonly value: unknown;
}

interface WebAssemblyApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  validate(bytes: Uint8Array): boolean;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}

export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
