// One shared WasmMemory (at most 4 GiB, wasm32) and a bump allocator over it. Weights,
// activations and kernel scratch all live here so every lane sees them; nothing is freed before
// the whole arena goes (buffers are made once when a model loads). A backend whose weights pass
// 4 GiB holds several arenas (see wasm-backend.ts); `limitBytes` lets tests make that happen small.
import { TesseraError } from '../../../shared/errors.js';
import { webAssembly, type WasmMemory } from './wasm-api.js';

const PAGE_BYTES = 65536;
/** A wasm32 memory's limit, 4 GiB, in pages. Must match --maximumMemory in scripts/build-kernels.mjs. */
export const MAXIMUM_MEMORY_PAGES = 65536;
/** A wasm32 memory's limit in bytes. */
export const MAXIMUM_ARENA_BYTES = MAXIMUM_MEMORY_PAGES * PAGE_BYTES;
/** Every allocation starts on a cache line, which SIMD loads and the lanes' row splits like. */
export const ALLOCATION_ALIGNMENT_BYTES = 64;

export class WasmArena {
  readonly memory: WasmMemory;
  private top: number;
  private buffer: SharedArrayBuffer;
  private float32View: Float32Array;
  private uint8View: Uint8Array;
  private int32View: Int32Array;

  /** limitBytes: the most this arena may hold (at most 4 GiB). */
  constructor(readonly limitBytes = MAXIMUM_ARENA_BYTES, initialPages = 16) {
    this.memory = new webAssembly.Memory({ initial: initialPages, maximum: MAXIMUM_MEMORY_PAGES, shared: true });
    this.top = 0;
    this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.float32View = new Float32Array(this.buffer);
    this.uint8View = new Uint8Array(this.buffer);
    this.int32View = new Int32Array(this.buffer);
  }

  /** Allocation starts at `address` (past the module's static data). */
  reserveBelow(address: number): void {
    this.top = Math.max(this.top, alignUp(address));
  }

  /** Bytes handed out so far, static data included. */
  get usedBytes(): number {
    return this.top;
  }

  /** Whether `bytes` more would fit under the limit. */
  fits(bytes: number): boolean {
    return alignUp(this.top) + bytes <= Math.min(this.limitBytes, MAXIMUM_ARENA_BYTES);
  }

  /** A zeroed region of `bytes`; returns its byte address. */
  allocate(bytes: number): number {
    const address = alignUp(this.top);
    const end = address + bytes;
    if (!this.fits(bytes)) {
      throw new TesseraError('KERNEL_OUT_OF_MEMORY', `a wasm arena holds at most ${Math.min(this.limitBytes, MAXIMUM_ARENA_BYTES)} bytes: cannot allocate ${bytes} more (${address} in use)`);
    }
    // The live size: a cached buffer object keeps the length it had when taken.
    const pages = this.memory.buffer.byteLength / PAGE_BYTES;
    const needed = Math.ceil(end / PAGE_BYTES);
    if (needed > pages) {
      // Grow by at least a quarter so many small allocations do not grow page by page.
      const limitPages = Math.ceil(Math.min(this.limitBytes, MAXIMUM_ARENA_BYTES) / PAGE_BYTES);
      const target = Math.min(limitPages, Math.max(needed, Math.ceil(pages * 1.25)));
      try {
        this.memory.grow(target - pages);
      } catch (error) {
        throw new TesseraError('KERNEL_OUT_OF_MEMORY', `cannot grow wasm memory to ${target * PAGE_BYTES} bytes`, { cause: error });
      }
    }
    this.top = end;
    return address;
  }

  /** Views over the whole memory, renewed after it grows (a grown shared memory gets a new buffer object). */
  get f32(): Float32Array {
    this.refresh();
    return this.float32View;
  }

  get u8(): Uint8Array {
    this.refresh();
    return this.uint8View;
  }

  get i32(): Int32Array {
    this.refresh();
    return this.int32View;
  }

  private refresh(): void {
    if (this.buffer.byteLength === this.memory.buffer.byteLength) return;
    this.buffer = this.memory.buffer as unknown as SharedArrayBuffer;
    this.float32View = new Float32Array(this.buffer);
    this.uint8View = new Uint8Array(this.buffer);
    this.int32View = new Int32Array(this.buffer);
  }
}

function alignUp(value: number): number {
  return Math.ceil(value / ALLOCATION_ALIGNMENT_BYTES) * ALLOCATION_ALIGNMENT_BYTES;
}
