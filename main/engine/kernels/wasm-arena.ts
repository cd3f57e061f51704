// One shared WasmMemory (at most 4 GiB, wasm32) and a bump allocator over it. Weights,
// activations and kernel scratch all live here so every lane sees them. Buffers are made once
// when a model loads and live as long as the arena; the one exception is a region outgrown and
// given back (`release`: the backend's scratch), which later allocations reuse before the top
// grows, since its pages stay resident once touched. A backend whose weights pass 4 GiB holds
// several arenas (see wasm-backend.ts); `limitBytes` lets tests make that happen small.
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
  /** End of everything ever handed out: memory past it was never written, so it is still zero. */
  private written = 0;
  /** Regions given back by `release`, reused first fit; sorted by address, never adjacent. */
  private readonly free: { address: number; bytes: number }[] = [];
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

  /** Bytes in use: handed out and not given back, static data included. */
  get usedBytes(): number {
    return this.free.reduce((used, region) => used - region.bytes, this.top);
  }

  /** Whether `bytes` more would fit under the limit. */
  fits(bytes: number): boolean {
    return alignUp(this.top) + bytes <= Math.min(this.limitBytes, MAXIMUM_ARENA_BYTES);
  }

  /** A zeroed region of `bytes`; returns its byte address. */
  allocate(bytes: number): number {
    const reused = this.reuse(bytes);
    if (reused !== undefined) return reused;
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
    // Below `written` lies a region given back at the top (see release), no longer zero.
    if (address < this.written) this.u8.fill(0, address, Math.min(end, this.written));
    this.written = Math.max(this.written, end);
    this.top = end;
    return address;
  }

  /**
   * Gives back a region from `allocate` that nothing reads any more; later allocations that fit
   * take it (zeroed again) before the arena grows. A region at the top lowers the top instead.
   */
  release(address: number, bytes: number): void {
    const end = alignUp(address + bytes);
    let index = this.free.findIndex((region) => region.address > address);
    if (index < 0) index = this.free.length;
    const region = { address, bytes: end - address };
    // Merge with the free neighbours, so a run of outgrown regions serves one larger request.
    const before = this.free[index - 1];
    if (before !== undefined && before.address + before.bytes === region.address) {
      region.address = before.address;
      region.bytes += before.bytes;
      this.free.splice(--index, 1);
    }
    const after = this.free[index];
    if (after !== undefined && region.address + region.bytes === after.address) {
      region.bytes += after.bytes;
      this.free.splice(index, 1);
    }
    if (region.address + region.bytes >= this.top) this.top = region.address;
    else this.free.splice(index, 0, region);
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

  /** The first given-back region that holds `bytes`, zeroed; its rest stays free. */
  private reuse(bytes: number): number | undefined {
    const needed = alignUp(bytes);
    const index = this.free.findIndex((region) => region.bytes >= needed);
    if (index < 0) return undefined;
    const region = this.free[index]!;
    const address = region.address;
    if (region.bytes === needed) this.free.splice(index, 1);
    else this.free[index] = { address: address + needed, bytes: region.bytes - needed };
    this.u8.fill(0, address, address + bytes);
    return address;
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
