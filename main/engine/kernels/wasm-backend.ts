// ComputeBackend on the wasm kernels: WebAssembly SIMD over shared memories, split over a pool of
// worker threads (lane-pool.ts). An op writes its arguments into a control block and is cut
// into chunks that the lanes claim (every lane for big ops, the calling thread alone for small).
//
// Memory: a wasm32 memory holds at most 4 GiB, so the backend keeps one or more arenas. Arena 0
// holds every activation and the first weights; once the weights there pass
// `firstArenaWeightBytes` (or arena 0 is full), further weights go to arenas 1, 2, ..., each a
// memory of its own with its own kernel instance on every lane. An op runs inside one arena: a
// matmul or embed whose weight lives elsewhere copies its (small) input into that arena's scratch
// and its output back — a few KiB per token against megabytes of weights.
import { availableParallelism } from 'node:os';
import { TesseraError } from '../../../shared/errors.js';
import type { Activation, AttentionShape, ComputeBackend, RopeStyle, Weight, WeightWriter } from '../backend.js';
import { dequantize } from '../gguf/quant.js';
import { GGML_BLOCK, GGMLType } from '../gguf/types.js';
import { CONTROL_ARGUMENTS, CONTROL_BLOCK_BYTES, CONTROL_MAX_ARGUMENTS, CONTROL_OP } from './kernel-abi.js';
import { LanePool } from './lane-pool.js';
import { bestKernelVariant, instantiateKernels, kernelsModule, type KernelExports, type KernelVariant } from './load-kernels.js';
import type { WasmModule } from './wasm-api.js';
import { MAXIMUM_ARENA_BYTES, WasmArena } from './wasm-arena.js';
import { isRepacked, weightLayout } from './weight-layout.js';

/** Element-wise ops below this many elements run on the calling thread: waking lanes costs more. */
export const PARALLEL_MIN_ELEMENTS = 32_768;
/** Matmuls below this many weight elements run on the calling thread. */
export const PARALLEL_MIN_WEIGHT_ELEMENTS = 65_536;
/** Attention below this many multiply-adds (q·k and p·v) runs on the calling thread. */
export const PARALLEL_MIN_ATTENTION_MACS = 32_768;
/**
 * Attention over an f16 cache for at least this many tokens (prefill) walks the positions in
 * blocks of BLOCKED_ATTENTION_POSITIONS: each kv head's keys and values of a block are converted
 * to f32 once, and every query of the head attends them while they are in the core's cache.
 */
export const BLOCKED_ATTENTION_MIN_TOKENS = 4;
/**
 * 512 positions of keys and values at head size 128 are 512 KiB of f32, within a recent core's L2.
 * Measured on 64-token chunks (16/8 heads of 128, 2 threads): 128 or 256 were slower than the
 * unblocked pass at 512 positions, 512 as fast there and 8 % faster at 2048, 25 % at 4096.
 */
export const BLOCKED_ATTENTION_POSITIONS = 512;

/**
 * Scratch of one blocked attention chunk, laid out by assembly/ops.ts (attentionBlocked): two
 * block maxima, two rows of block scores, the block's keys and values as f32, and a running
 * maximum and sum for each of its `rows` query rows.
 */
function blockedAttentionScratchBytes(block: number, headDim: number, rows: number): number {
  return 16 + block * 8 + block * headDim * 8 + rows * 8;
}
/** Chunks per lane of a parallel op: enough that a lane the OS pauses leaves work to the others. */
export const CHUNKS_PER_LANE = 4;
/** A matmul chunk covers at least this many rows (the prefill kernels walk 16-row blocks). */
export const MIN_MATMUL_CHUNK_ROWS = 16;
/** Default cap on the weight bytes placed in arena 0, which also holds every activation. */
export const DEFAULT_FIRST_ARENA_WEIGHT_BYTES = 2 * 1024 ** 3;
/** Most weights one fused matmul (matmulShared) takes: the op has room for three. */
export const MAX_SHARED_MATMUL_WEIGHTS = 3;
/** GGUF bytes of a weight staged in wasm memory at once for repacking: bounds the scratch it takes. */
export const REPACK_STAGING_BYTES = 4 * 1024 * 1024;

export interface WasmBackendOptions {
  /** Lanes, the calling thread included. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** Polls before a waiting lane sleeps (see lane-pool.ts). */
  readonly spinIterations?: number;
  /** Kernel build: 'auto' (default) takes relaxed SIMD where the runtime has it. */
  readonly kernels?: KernelVariant | 'auto';
  /** Most bytes one arena (wasm memory) holds. Default and maximum 4 GiB; tests pass less. */
  readonly maxArenaBytes?: number;
  /** Weight bytes placed in arena 0 before weights go to further arenas (default 2 GiB). */
  readonly firstArenaWeightBytes?: number;
}

class WasmActivation implements Activation {
  constructor(
    readonly address: number,
    readonly length: number,
    /** f16 elements (allocHalf: KV caches) rather than f32. */
    readonly half = false,
  ) {}
}

class WasmWeight implements Weight {
  constructor(
    readonly type: GGMLType,
    readonly rows: number,
    readonly cols: number,
    /** Index of the arena that holds it. */
    readonly arena: number,
    /** Quants/values. */
    readonly address: number,
    /** Separate scales (Q8_0, Q4_0: f16 per block; Q4_K: meta records), else 0. */
    readonly scalesAddress: number,
  ) {}
}

/** One wasm memory with the calling thread's kernel instance over it. */
interface BackendArena {
  readonly index: number;
  readonly memory: WasmArena;
  readonly kernels: KernelExports;
  readonly controlAddress: number;
  /** Scratch for the quantized form of matmul inputs, token ids and staged data; grows on demand. */
  scratch: { address: number; bytes: number };
}

/** Weight types whose matmul reads x as q8 blocks of 32 (quantize.ts), token by token. */
const Q8_32_TYPES = new Set<GGMLType>([GGMLType.Q4_0, GGMLType.Q5_K]);
/** Weight types whose matmul reads x as q8_K (one scale per 256 values). */
const Q8_K_TYPES = new Set<GGMLType>([GGMLType.Q4_K, GGMLType.Q6_K]);

type OpName = 'quantize' | 'quantizeK' | 'matmul' | 'embed' | 'rmsnorm' | 'addBias' | 'add' | 'swiglu' | 'rope' | 'attention' | 'repack' | 'toHalf' | 'storeKv';

export class WasmBackend implements ComputeBackend {
  readonly name = 'wasm-simd';
  private disposed = false;
  private readonly opCodes: Record<OpName, number>;
  private readonly arenas: BackendArena[] = [];
  private weightBytesInFirstArena = 0;

  private constructor(
    private readonly module: WasmModule,
    /** Which kernel build runs: 'relaxed-simd' or 'simd'. */
    readonly kernelVariant: KernelVariant,
    first: BackendArena,
    private readonly pool: LanePool,
    private readonly maxArenaBytes: number,
    private readonly firstArenaWeightBytes: number,
  ) {
    this.arenas.push(first);
    const k = first.kernels;
    this.opCodes = {
      quantize: k.OP_QUANTIZE.value as number,
      quantizeK: k.OP_QUANTIZE_K.value as number,
      matmul: k.OP_MATMUL.value as number,
      embed: k.OP_EMBED.value as number,
      rmsnorm: k.OP_RMSNORM.value as number,
      addBias: k.OP_ADD_BIAS.value as number,
      add: k.OP_ADD.value as number,
      swiglu: k.OP_SWIGLU.value as number,
      rope: k.OP_ROPE.value as number,
      attention: k.OP_ATTENTION.value as number,
      repack: k.OP_REPACK.value as number,
      toHalf: k.OP_TO_HALF.value as number,
      storeKv: k.OP_STORE_KV.value as number,
    };
  }

  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `threads must be a positive integer, not ${threads}`);
    }
    const maxArenaBytes = options.maxArenaBytes ?? MAXIMUM_ARENA_BYTES;
    if (!(maxArenaBytes >= 1 << 20 && maxArenaBytes <= MAXIMUM_ARENA_BYTES)) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `maxArenaBytes must be between 1 MiB and 4 GiB, not ${maxArenaBytes}`);
    }
    const variant = !options.kernels || options.kernels === 'auto' ? bestKernelVariant() : options.kernels;
    const module = kernelsModule(variant);
    const first = newArena(module, 0, maxArenaBytes);
    const pool = await LanePool.start({
      module, arena: { memory: first.memory.memory, controlAddress: first.controlAddress, kernels: first.kernels },
      lanes: threads, spinIterations: options.spinIterations,
    });
    return new WasmBackend(module, variant, first, pool, maxArenaBytes, options.firstArenaWeightBytes ?? DEFAULT_FIRST_ARENA_WEIGHT_BYTES);
  }

  get threads(): number {
    return this.pool.lanes;
  }

  /** Resolves once every worker thread has exited (after dispose). */
  get exited(): Promise<void> {
    return this.pool.exited;
  }

  /** Bytes of wasm memory in use over all arenas (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.arenas.reduce((total, arena) => total + arena.memory.usedBytes, 0);
  }

  /** How many wasm memories the backend holds. */
  get arenaCount(): number {
    return this.arenas.length;
  }

  /** The arena a weight was placed in (0 = with the activations). */
  arenaOf(weight: Weight): number {
    return this.weight(weight).arena;
  }

  alloc(length: number): Activation {
    this.checkOpen();
    if (!Number.isInteger(length) || length < 0) throw new TesseraError('KERNEL_BAD_ARGUMENT', `cannot allocate ${length} elements`);
    return new WasmActivation(this.first.memory.allocate(length * 4), length);
  }

  allocHalf(length: number): Activation {
    this.checkOpen();
    if (!Number.isInteger(length) || length < 0) throw new TesseraError('KERNEL_BAD_ARGUMENT', `cannot allocate ${length} elements`);
    return new WasmActivation(this.first.memory.allocate(length * 2), length, true);
  }

  write(target: Activation, data: Float32Array, offset = 0): void {
    const t = this.activation(target, true);
    checkRange(t, offset, data.length);
    if (!t.half) {
      this.first.memory.f32.set(data, t.address / 4 + offset);
      return;
    }
    // f16 target: stage as f32 and let the kernel round (tests; the model fills caches with copy).
    const staged = this.scratchArea(this.first, data.length * 4);
    this.first.memory.f32.set(data, staged / 4);
    this.toHalf(t.address + offset * 2, staged, data.length);
  }

  read(source: Activation, offset = 0, length = source.length - offset, target?: Float32Array): Float32Array {
    const s = this.activation(source, true);
    checkRange(s, offset, length);
    checkTarget(target, length);
    if (s.half) {
      const start = s.address + offset * 2;
      const values = dequantize(GGMLType.F16, this.first.memory.u8.slice(start, start + length * 2), length);
      target?.set(values);
      return target ?? values;
    }
    const start = s.address / 4 + offset;
    if (target === undefined) return this.first.memory.f32.slice(start, start + length);
    target.set(this.first.memory.f32.subarray(start, start + length));
    return target;
  }

  copy(dst: Activation, dstOffset: number, src: Activation, srcOffset: number, length: number): void {
    const d = this.activation(dst, true);
    const s = this.activation(src, true);
    checkRange(d, dstOffset, length);
    checkRange(s, srcOffset, length);
    if (d.half && !s.half) {
      this.toHalf(d.address + dstOffset * 2, s.address + srcOffset * 4, length);
    } else if (d.half === s.half) {
      const bytes = d.half ? 2 : 4;
      const from = s.address + srcOffset * bytes;
      this.first.memory.u8.copyWithin(d.address + dstOffset * bytes, from, from + length * bytes);
    } else {
      this.write(d, this.read(s, srcOffset, length), dstOffset);
    }
  }

  uploadWeight(type: GGMLType, rows: number, cols: number, data: Uint8Array): Weight {
    const layout = weightLayout(type, rows, cols);
    if (data.length !== layout.ggufBytes) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `a ${GGMLType[type]} ${rows} x ${cols} weight is ${layout.ggufBytes} bytes, got ${data.length}`);
    }
    const writer = this.beginWeight(type, rows, cols);
    writer.writeRows(0, data);
    return writer.weight;
  }

  beginWeight(type: GGMLType, rows: number, cols: number): WeightWriter {
    this.checkOpen();
    const layout = weightLayout(type, rows, cols);
    // Two allocations, each padded to the allocation alignment.
    const bytes = layout.valueBytes + layout.scaleBytes + 128;
    const arena = this.arenaForWeight(bytes);
    const address = arena.memory.allocate(layout.valueBytes);
    const scalesAddress = layout.scaleBytes > 0 ? arena.memory.allocate(layout.scaleBytes) : 0;
    if (arena.index === 0) this.weightBytesInFirstArena += bytes;
    const weight = new WasmWeight(type, rows, cols, arena.index, address, scalesAddress);
    const rowBytes = layout.ggufBytes / rows;
    const block = GGML_BLOCK[type];
    const blocksPerRow = cols / block.elements;
    const repacked = isRepacked(type);
    /** Splits `blocks` GGUF blocks staged at `staged` into the weight's values and scales from block `firstBlock`. */
    const repack = (staged: number, firstBlock: number, blocks: number): void => {
      this.post(arena, this.opCodes.repack, [type, staged, blocks, address, scalesAddress, firstBlock, blocksPerRow]);
      this.run(arena, blocks >= 4096 ? this.chunkLimit() : 1);
    };
    // The last view rowsBuffer handed out, and the row it starts at.
    let lent: { view: Uint8Array; firstRow: number } | undefined;
    return {
      weight,
      writeRows: (firstRow: number, data: Uint8Array): void => {
        this.checkOpen();
        const count = data.length / rowBytes;
        if (!Number.isInteger(firstRow) || !Number.isInteger(count) || firstRow < 0 || firstRow + count > rows) {
          throw new TesseraError('KERNEL_BAD_ARGUMENT', `${data.length} bytes are not whole rows ${firstRow}.. of a ${rows}-row ${GGMLType[type]} weight`);
        }
        const inPlace = lent !== undefined && data === lent.view && firstRow === lent.firstRow;
        lent = undefined;
        if (!repacked) {
          if (!inPlace) arena.memory.u8.set(data, address + firstRow * rowBytes);
          return;
        }
        if (inPlace) {
          repack(data.byteOffset, firstRow * blocksPerRow, data.length / block.bytes);
          return;
        }
        // Staged in pieces into wasm memory, then split into values and scales by the kernel.
        const piece = Math.max(1, Math.floor(REPACK_STAGING_BYTES / block.bytes)) * block.bytes;
        for (let done = 0; done < data.length; done += piece) {
          const part = data.subarray(done, Math.min(done + piece, data.length));
          const staged = this.scratchArea(arena, part.length);
          arena.memory.u8.set(part, staged);
          repack(staged, firstRow * blocksPerRow + done / block.bytes, part.length / block.bytes);
        }
      },
      // Rows kept as GGUF bytes are read into their place; repacked ones into the scratch, whole
      // rows up to the staging bound, where the kernel splits them.
      rowsBuffer: (firstRow: number, count: number): Uint8Array => {
        this.checkOpen();
        if (!Number.isInteger(firstRow) || !Number.isInteger(count) || firstRow < 0 || count < 1 || firstRow + count > rows) {
          throw new TesseraError('KERNEL_BAD_ARGUMENT', `rows ${firstRow}..${firstRow + count - 1} are not rows of a ${rows}-row ${GGMLType[type]} weight`);
        }
        let view: Uint8Array;
        if (!repacked) {
          const start = address + firstRow * rowBytes;
          view = arena.memory.u8.subarray(start, start + count * rowBytes);
        } else {
          const bytes = Math.min(count, Math.max(1, Math.floor(REPACK_STAGING_BYTES / rowBytes))) * rowBytes;
          const staged = this.scratchArea(arena, bytes);
          view = arena.memory.u8.subarray(staged, staged + bytes);
        }
        lent = { view, firstRow };
        return view;
      },
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.dispose();
  }

  embed(out: Activation, table: Weight, tokens: Int32Array): void {
    const o = this.activation(out);
    const w = this.weight(table);
    checkRange(o, 0, tokens.length * w.cols);
    for (const token of tokens) {
      if (!Number.isInteger(token) || token < 0 || token >= w.rows) {
        throw new TesseraError('KERNEL_BAD_ARGUMENT', `token ${token} is outside the embedding table (${w.rows} rows)`);
      }
    }
    const arena = this.arenas[w.arena]!;
    const outBytes = tokens.length * w.cols * 4;
    const tokensAddress = this.scratchArea(arena, tokens.length * 4 + outBytes + 64);
    // Rows are written straight into `out` when the table shares its arena, else staged.
    const target = w.arena === 0 ? o.address : alignUp(tokensAddress + tokens.length * 4);
    arena.memory.i32.set(tokens, tokensAddress / 4);
    this.post(arena, this.opCodes.embed, [w.type, w.address, w.scalesAddress, w.cols, tokensAddress, tokens.length, target]);
    this.run(arena, tokens.length * w.cols >= PARALLEL_MIN_ELEMENTS && tokens.length > 1 ? tokens.length : 1);
    if (w.arena !== 0) this.first.memory.u8.set(arena.memory.u8.subarray(target, target + outBytes), o.address);
  }

  matmul(out: Activation, weight: Weight, x: Activation, nTokens: number): void {
    this.matmulShared([out], [weight], x, nTokens);
  }

  /**
   * Several matmuls that read the same input (q/k/v, gate/up) as one op: x is quantized once and
   * the lanes share out all the weights' rows in one dispatch. outs[i]: [nTokens, weights[i].rows].
   * Weights of different activation forms or arenas are run as separate ops.
   */
  matmulShared(outs: readonly Activation[], weights: readonly Weight[], x: Activation, nTokens: number): void {
    const input = this.activation(x);
    checkCount(nTokens);
    if (outs.length !== weights.length || weights.length === 0) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `matmulShared needs one output per weight (${outs.length} outputs, ${weights.length} weights)`);
    }
    const ws = weights.map((w) => this.weight(w));
    const os = outs.map((o) => this.activation(o));
    const cols = ws[0]!.cols;
    ws.forEach((w, i) => {
      if (w.cols !== cols) throw new TesseraError('KERNEL_BAD_ARGUMENT', `matmulShared weights must share cols (${w.cols} vs ${cols})`);
      checkRange(os[i]!, 0, nTokens * w.rows);
    });
    checkRange(input, 0, nTokens * cols);
    const form = activationForm(ws[0]!.type);
    const fusable = ws.length <= MAX_SHARED_MATMUL_WEIGHTS && ws.every((w) => activationForm(w.type) === form && w.arena === ws[0]!.arena);
    if (!fusable) {
      ws.forEach((w, i) => this.matmulShared([os[i]!], [w], x, nTokens));
      return;
    }
    const arena = this.arenas[ws[0]!.arena]!;
    const first = this.first;
    const inputBytes = form === 'f32' ? nTokens * cols * 4 : quantizedBytes(nTokens, cols);
    const outBytes = arena === first ? 0 : ws.reduce((total, w) => total + alignUp(nTokens * w.rows * 4), 0);
    const totalRows = ws.reduce((total, w) => total + w.rows, 0);
    const parallel = totalRows * cols >= PARALLEL_MIN_WEIGHT_ELEMENTS;
    const chunks = parallel ? Math.max(1, Math.min(Math.ceil(totalRows / MIN_MATMUL_CHUNK_ROWS), this.chunkLimit())) : 1;
    // [quantized x | staged f32 x] [staged outputs] [each chunk's kernel scratch]
    const base = this.scratchArea(arena, alignUp(inputBytes) + outBytes + chunks * arena.kernels.matmulScratchBytes(cols));
    let xAddress = input.address, xq = 0, xd = 0, xsum = 0;
    if (form !== 'f32') {
      // Quantize in arena 0, where x lives; the result is copied over if the weights live elsewhere.
      const at = arena === first ? base : this.scratchArea(first, inputBytes);
      xq = at;
      xd = at + paddedTokens(nTokens) * cols * 2;
      xsum = xd + (nTokens * cols / 32) * 4;
      const blocks = (nTokens * cols) / (form === 'q8_K' ? 256 : 32);
      const grouped = form === 'q8-grouped' ? 1 : 0;
      this.post(first, form === 'q8_K' ? this.opCodes.quantizeK : this.opCodes.quantize, [input.address, xq, xd, xsum, cols, nTokens, grouped]);
      this.run(first, nTokens > 1 && nTokens * cols >= PARALLEL_MIN_ELEMENTS ? Math.min(blocks, this.chunkLimit()) : 1);
      if (arena !== first) {
        arena.memory.u8.set(first.memory.u8.subarray(at, at + inputBytes), base);
        xd += base - at; xsum += base - at; xq = base;
      }
    } else if (arena !== first) {
      arena.memory.u8.set(first.memory.u8.subarray(input.address, input.address + inputBytes), base);
      xAddress = base;
    }
    let staged = base + alignUp(inputBytes);
    const targets = ws.map((w) => {
      if (arena === first) return os[ws.indexOf(w)]!.address;
      const at = staged;
      staged += alignUp(nTokens * w.rows * 4);
      return at;
    });
    const args = [ws.length, cols, nTokens, xAddress, xq, xd, xsum];
    ws.forEach((w, i) => args.push(w.type, w.address, w.scalesAddress, w.rows, targets[i]!));
    args.push(staged);
    this.post(arena, this.opCodes.matmul, args);
    this.run(arena, chunks);
    if (arena !== first) {
      ws.forEach((w, i) => first.memory.u8.set(arena.memory.u8.subarray(targets[i]!, targets[i]! + nTokens * w.rows * 4), os[i]!.address));
    }
  }

  rmsnorm(out: Activation, x: Activation, gain: Activation, nRows: number, eps: number): void {
    const o = this.activation(out), input = this.activation(x), g = this.activation(gain);
    checkCount(nRows);
    checkRange(input, 0, nRows * g.length);
    checkRange(o, 0, nRows * g.length);
    this.post(this.first, this.opCodes.rmsnorm, [o.address, input.address, g.address, g.length, nRows], [[5, eps]]);
    this.run(this.first, nRows > 1 && nRows * g.length >= PARALLEL_MIN_ELEMENTS ? Math.min(nRows, this.chunkLimit()) : 1);
  }

  addBias(x: Activation, bias: Activation, nRows: number): void {
    const input = this.activation(x), b = this.activation(bias);
    checkCount(nRows);
    checkRange(input, 0, nRows * b.length);
    this.post(this.first, this.opCodes.addBias, [input.address, b.address, b.length, nRows]);
    this.run(this.first, nRows > 1 && nRows * b.length >= PARALLEL_MIN_ELEMENTS ? Math.min(nRows, this.chunkLimit()) : 1);
  }

  rope(
    x: Activation, nTokens: number, nHeads: number, headDim: number, startPosition: number, theta: number, style: RopeStyle, factors?: Activation,
  ): void {
    const input = this.activation(x);
    checkCount(nTokens);
    if (headDim % 2 !== 0) throw new TesseraError('KERNEL_BAD_ARGUMENT', `rope needs an even head size, not ${headDim}`);
    checkRange(input, 0, nTokens * nHeads * headDim);
    const divisors = factors === undefined ? undefined : this.activation(factors);
    if (divisors !== undefined) checkRange(divisors, 0, headDim / 2);
    this.post(
      this.first, this.opCodes.rope,
      [input.address, nTokens, nHeads, headDim, startPosition, 0, style === 'neox' ? 1 : 0, divisors?.address ?? 0], [[5, theta]],
    );
    this.run(this.first, nTokens > 1 && nTokens * nHeads * headDim >= PARALLEL_MIN_ELEMENTS ? Math.min(nTokens, this.chunkLimit()) : 1);
  }

  storeKv(cache: Activation, src: Activation, startPosition: number, nTokens: number, nKvHeads: number, headDim: number): void {
    const c = this.activation(cache, true), s = this.activation(src);
    checkCount(nTokens);
    const capacity = cacheCapacity(c, nKvHeads, headDim);
    if (!Number.isInteger(startPosition) || startPosition < 0 || startPosition + nTokens > capacity) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `positions ${startPosition}..${startPosition + nTokens} do not fit a KV cache of ${capacity}`);
    }
    checkRange(s, 0, nTokens * nKvHeads * headDim);
    this.post(this.first, this.opCodes.storeKv, [c.address, s.address, startPosition, nTokens, nKvHeads, headDim, capacity, c.half ? 1 : 0]);
    this.run(this.first, nTokens * nKvHeads * headDim >= PARALLEL_MIN_ELEMENTS ? Math.min(nTokens * nKvHeads, this.chunkLimit()) : 1);
  }

  attention(out: Activation, q: Activation, keys: Activation, values: Activation, shape: AttentionShape): void {
    const o = this.activation(out), query = this.activation(q), k = this.activation(keys, true), v = this.activation(values, true);
    if (k.half !== v.half) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'attention needs keys and values of the same precision');
    const { nHeads, nKvHeads, headDim, startPosition, nTokens, scale } = shape;
    checkCount(nTokens);
    if (headDim % 4 !== 0 || nHeads % nKvHeads !== 0) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `attention needs headDim % 4 == 0 and nHeads % nKvHeads == 0 (got ${headDim}, ${nHeads}/${nKvHeads})`);
    }
    if (o.address === query.address) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'attention output must not alias q');
    checkRange(query, 0, nTokens * nHeads * headDim);
    checkRange(o, 0, nTokens * nHeads * headDim);
    const positions = startPosition + nTokens;
    const capacity = cacheCapacity(k, nKvHeads, headDim);
    if (cacheCapacity(v, nKvHeads, headDim) !== capacity || positions > capacity) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `attention over ${positions} positions needs keys and values caches of the same capacity, at least that`);
    }
    const macs = 2 * nTokens * nHeads * headDim * (startPosition + (nTokens + 1) / 2);
    const items = nTokens * nHeads;
    const parallel = items > 1 && macs >= PARALLEL_MIN_ATTENTION_MACS;
    // Prefill over an f16 cache: each chunk serves the queries of one kv head (token groups cut the
    // work finer than the kv heads where lanes are many), a block of positions at a time.
    // Otherwise (t, h) items are dealt out round-robin per chunk, so chunks stay balanced over the
    // causal triangle.
    const blocked = k.half && nTokens >= BLOCKED_ATTENTION_MIN_TOKENS;
    const groups = blocked ? Math.max(1, Math.min(nTokens, Math.floor(this.chunkLimit() / nKvHeads))) : 0;
    const chunks = blocked ? nKvHeads * groups : parallel ? Math.min(items, this.chunkLimit()) : 1;
    // A blocked chunk: see blockedAttentionScratchBytes, for its tokens' query rows of one kv
    // head. Otherwise each chunk's scores (one f32 per position for each of up to two query heads)
    // and two maxima.
    // A short prompt's blocks need no more than its positions.
    const block = Math.min(BLOCKED_ATTENTION_POSITIONS, positions);
    const chunkBytes = blocked
      ? blockedAttentionScratchBytes(block, headDim, Math.ceil(nTokens / groups) * (nHeads / nKvHeads))
      : positions * 8 + 16;
    const scratch = this.scratchArea(this.first, chunks * chunkBytes);
    this.post(
      this.first,
      this.opCodes.attention,
      [o.address, query.address, k.address, v.address, nHeads, nKvHeads, headDim, startPosition, nTokens, 0, k.half ? 1 : 0, scratch, groups, capacity, block, chunkBytes],
      [[9, scale]],
    );
    this.run(this.first, chunks);
  }

  swiglu(out: Activation, gate: Activation, up: Activation, length: number): void {
    const o = this.activation(out), g = this.activation(gate), u = this.activation(up);
    checkRange(o, 0, length);
    checkRange(g, 0, length);
    checkRange(u, 0, length);
    this.post(this.first, this.opCodes.swiglu, [o.address, g.address, u.address, length]);
    this.run(this.first, length >= PARALLEL_MIN_ELEMENTS ? this.chunkLimit() : 1);
  }

  add(out: Activation, a: Activation, b: Activation, length: number): void {
    const o = this.activation(out), first = this.activation(a), second = this.activation(b);
    checkRange(o, 0, length);
    checkRange(first, 0, length);
    checkRange(second, 0, length);
    this.post(this.first, this.opCodes.add, [o.address, first.address, second.address, length]);
    this.run(this.first, length >= PARALLEL_MIN_ELEMENTS ? this.chunkLimit() : 1);
  }

  private get first(): BackendArena {
    return this.arenas[0]!;
  }

  /** Chunks a parallel op is cut into at most. */
  private chunkLimit(): number {
    return this.pool.lanes * CHUNKS_PER_LANE;
  }

  /** Arena 0 while its weight budget lasts, then the last arena, then a new one. */
  private arenaForWeight(bytes: number): BackendArena {
    const first = this.first;
    if (this.arenas.length === 1 && this.weightBytesInFirstArena + bytes <= this.firstArenaWeightBytes && first.memory.fits(bytes)) return first;
    const last = this.arenas[this.arenas.length - 1]!;
    if (last !== first && last.memory.fits(bytes)) return last;
    const arena = newArena(this.module, this.arenas.length, this.maxArenaBytes);
    if (!arena.memory.fits(bytes)) {
      throw new TesseraError('KERNEL_OUT_OF_MEMORY', `a ${bytes}-byte weight does not fit in one wasm arena (${this.maxArenaBytes} bytes)`);
    }
    this.pool.addArena({ memory: arena.memory.memory, controlAddress: arena.controlAddress, kernels: arena.kernels });
    this.arenas.push(arena);
    return arena;
  }

  /** Writes an op and its u32 arguments (plus f32 ones at the given indices) into the arena's control block. */
  private post(arena: BackendArena, op: number, args: readonly number[], floats: readonly (readonly [number, number])[] = []): void {
    if (args.length > CONTROL_MAX_ARGUMENTS) throw new Error('too many kernel arguments');
    const words = arena.memory.i32;
    const base = arena.controlAddress / 4;
    words[base + CONTROL_OP] = op;
    for (let i = 0; i < args.length; i++) words[base + CONTROL_ARGUMENTS + i] = args[i]! | 0;
    if (floats.length > 0) {
      const f32 = arena.memory.f32;
      for (const [index, value] of floats) f32[base + CONTROL_ARGUMENTS + index] = value;
    }
  }

  /** Runs the posted op in `chunks` chunks: on every lane when there are several, else on this thread. */
  private run(arena: BackendArena, chunks: number): void {
    this.pool.run(arena.index, chunks, chunks > 1);
  }

  /** Start of a scratch region of at least `bytes` in `arena`; its contents do not survive the next op. */
  private scratchArea(arena: BackendArena, bytes: number): number {
    if (bytes > arena.scratch.bytes) {
      const size = Math.max(bytes, arena.scratch.bytes * 2, 1 << 16);
      // The outgrown region goes back to the arena: the new one starts there when it is the top,
      // else a later buffer (a weight, a KV cache) takes it instead of leaving it resident unused.
      if (arena.scratch.bytes > 0) arena.memory.release(arena.scratch.address, arena.scratch.bytes);
      arena.scratch = { address: arena.memory.allocate(size), bytes: size };
    }
    return arena.scratch.address;
  }

  /** f16 (allocHalf) buffers only where `halfAllowed`: the other ops read f32. */
  private activation(value: Activation, halfAllowed = false): WasmActivation {
    this.checkOpen();
    if (!(value instanceof WasmActivation)) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'the activation was not allocated by this wasm backend');
    if (value.half && !halfAllowed) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'this op takes f32 buffers, not an f16 one');
    return value;
  }

  /** f16 at `outAddress` of `length` f32 at `xAddress`, both in arena 0. */
  private toHalf(outAddress: number, xAddress: number, length: number): void {
    this.post(this.first, this.opCodes.toHalf, [outAddress, xAddress, length]);
    this.run(this.first, length >= PARALLEL_MIN_ELEMENTS ? this.chunkLimit() : 1);
  }

  private weight(value: Weight): WasmWeight {
    this.checkOpen();
    if (!(value instanceof WasmWeight)) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'the weight was not uploaded to this wasm backend');
    return value;
  }

  private checkOpen(): void {
    if (this.disposed) throw new TesseraError('ENGINE_CLOSED', 'the compute backend was disposed');
  }
}

function newArena(module: WasmModule, index: number, maxArenaBytes: number): BackendArena {
  const memory = new WasmArena(maxArenaBytes);
  const kernels = instantiateKernels(module, memory.memory);
  memory.reserveBelow(kernels.heapBase());
  const controlAddress = memory.allocate(CONTROL_BLOCK_BYTES);
  return { index, memory, kernels, controlAddress, scratch: { address: 0, bytes: 0 } };
}

/** How a matmul over weights of `type` reads its input (Q8_0: q8 blocks of 32, grouped by four tokens). */
function activationForm(type: GGMLType): 'f32' | 'q8' | 'q8-grouped' | 'q8_K' {
  if (type === GGMLType.Q8_0) return 'q8-grouped';
  if (Q8_K_TYPES.has(type)) return 'q8_K';
  return Q8_32_TYPES.has(type) ? 'q8' : 'f32';
}

/**
 * Scratch bytes of x's quantized form: xq (up to int16, room for whole groups of four tokens), xd
 * and xsum (f32 per block of 32), and xd4 (xd by groups of four tokens): see assembly/quantize.ts.
 */
function quantizedBytes(nTokens: number, cols: number): number {
  return paddedTokens(nTokens) * cols * 2 + (nTokens * cols / 32) * 8 + paddedTokens(nTokens) * (cols / 32) * 4;
}

/** Tokens rounded up to whole groups of four. */
function paddedTokens(nTokens: number): number {
  return Math.ceil(nTokens / 4) * 4;
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

function checkRange(buffer: WasmActivation, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buffer.length) {
    throw new TesseraError('KERNEL_BAD_ARGUMENT', `elements [${offset}, ${offset + length}) fall outside a buffer of ${buffer.length}`);
  }
}

function checkTarget(target: Float32Array | undefined, length: number): void {
  if (target !== undefined && target.length !== length) {
    throw new TesseraError('KERNEL_BAD_ARGUMENT', `cannot read ${length} elements into an array of ${target.length}`);
  }
}

function checkCount(nTokens: number): void {
  if (!Number.isInteger(nTokens) || nTokens < 1) throw new TesseraError('KERNEL_BAD_ARGUMENT', `a row count must be a positive integer, not ${nTokens}`);
}

/** Positions a KV cache laid out [nKvHeads, capacity, headDim] holds (see ComputeBackend.storeKv). */
function cacheCapacity(cache: WasmActivation, nKvHeads: number, headDim: number): number {
  const width = nKvHeads * headDim;
  if (!Number.isInteger(width) || width <= 0 || cache.length % width !== 0) {
    throw new TesseraError('KERNEL_BAD_ARGUMENT', `a KV cache of ${cache.length} elements does not hold whole positions of ${nKvHeads} x ${headDim}`);
  }
  return cache.length / width;
}
