// ComputeBackend on kernels.wasm: WebAssembly SIMD kernels over one shared memory, split over a
// pool of worker threads (lane-pool.ts). Weights and activations live in the wasm memory; an op
// writes its arguments into the control block and either runs on the calling thread alone (small
// ops) or on every lane.
import { availableParallelism } from 'node:os';
import { TesseraError } from '../../../shared/errors.js';
import type { Activation, AttentionShape, ComputeBackend, RopeStyle, Weight } from '../backend.js';
import { GGMLType } from '../gguf/types.js';
import { CONTROL_ARGUMENTS, CONTROL_BLOCK_BYTES, CONTROL_MAX_ARGUMENTS, CONTROL_OP } from './kernel-abi.js';
import { LanePool } from './lane-pool.js';
import { instantiateKernels, kernelsModule, type KernelExports } from './load-kernels.js';
import { WasmArena } from './wasm-arena.js';
import { weightLayout, writeWeight } from './weight-layout.js';

/** Element-wise ops below this many elements run on the calling thread: waking lanes costs more. */
export const PARALLEL_MIN_ELEMENTS = 32_768;
/** Matmuls below this many weight elements run on the calling thread. */
export const PARALLEL_MIN_WEIGHT_ELEMENTS = 65_536;
/** Attention below this many multiply-adds (q·k and p·v) runs on the calling thread. */
export const PARALLEL_MIN_ATTENTION_MACS = 32_768;

export interface WasmBackendOptions {
  /** Lanes, the calling thread included. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** Polls before a waiting lane sleeps (see lane-pool.ts). */
  readonly spinIterations?: number;
}

class WasmActivation implements Activation {
  constructor(readonly address: number, readonly length: number) {}
}

class WasmWeight implements Weight {
  constructor(
    readonly type: GGMLType,
    readonly rows: number,
    readonly cols: number,
    /** Quants/values. */
    readonly address: number,
    /** Separate scales (Q8_0, Q4_0: f16 per block; Q4_K: meta records), else 0. */
    readonly scalesAddress: number,
  ) {}
}

const QUANTIZED_ACTIVATION_TYPES = new Set<GGMLType>([GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]);

export class WasmBackend implements ComputeBackend {
  readonly name = 'wasm-simd';
  private disposed = false;
  private readonly opCodes: Record<'quantize' | 'matmul' | 'embed' | 'rmsnorm' | 'addBias' | 'add' | 'swiglu' | 'rope' | 'attention', number>;
  /** Scratch for the q8 form of matmul inputs and for token ids; grows on demand. */
  private scratch = { address: 0, bytes: 0 };

  private constructor(
    private readonly arena: WasmArena,
    kernels: KernelExports,
    private readonly controlAddress: number,
    private readonly pool: LanePool,
  ) {
    this.opCodes = {
      quantize: kernels.OP_QUANTIZE.value as number,
      matmul: kernels.OP_MATMUL.value as number,
      embed: kernels.OP_EMBED.value as number,
      rmsnorm: kernels.OP_RMSNORM.value as number,
      addBias: kernels.OP_ADD_BIAS.value as number,
      add: kernels.OP_ADD.value as number,
      swiglu: kernels.OP_SWIGLU.value as number,
      rope: kernels.OP_ROPE.value as number,
      attention: kernels.OP_ATTENTION.value as number,
    };
  }

  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `threads must be a positive integer, not ${threads}`);
    }
    const module = kernelsModule();
    const arena = new WasmArena();
    const kernels = instantiateKernels(module, arena.memory);
    arena.reserveBelow(kernels.heapBase());
    const controlAddress = arena.allocate(CONTROL_BLOCK_BYTES);
    const pool = await LanePool.start({
      module, memory: arena.memory, kernels, controlAddress, lanes: threads, spinIterations: options.spinIterations,
    });
    return new WasmBackend(arena, kernels, controlAddress, pool);
  }

  get threads(): number {
    return this.pool.lanes;
  }

  /** Resolves once every worker thread has exited (after dispose). */
  get exited(): Promise<void> {
    return this.pool.exited;
  }

  /** Bytes of wasm memory in use (weights, activations, scratch). */
  get memoryBytes(): number {
    return this.arena.usedBytes;
  }

  alloc(length: number): Activation {
    this.checkOpen();
    if (!Number.isInteger(length) || length < 0) throw new TesseraError('KERNEL_BAD_ARGUMENT', `cannot allocate ${length} elements`);
    return new WasmActivation(this.arena.allocate(length * 4), length);
  }

  write(target: Activation, data: Float32Array, offset = 0): void {
    const t = this.activation(target);
    checkRange(t, offset, data.length);
    this.arena.f32.set(data, t.address / 4 + offset);
  }

  read(source: Activation, offset = 0, length = source.length - offset): Float32Array {
    const s = this.activation(source);
    checkRange(s, offset, length);
    const start = s.address / 4 + offset;
    return this.arena.f32.slice(start, start + length);
  }

  copy(dst: Activation, dstOffset: number, src: Activation, srcOffset: number, length: number): void {
    const d = this.activation(dst);
    const s = this.activation(src);
    checkRange(d, dstOffset, length);
    checkRange(s, srcOffset, length);
    const from = s.address / 4 + srcOffset;
    this.arena.f32.copyWithin(d.address / 4 + dstOffset, from, from + length);
  }

  uploadWeight(type: GGMLType, rows: number, cols: number, data: Uint8Array): Weight {
    this.checkOpen();
    const layout = weightLayout(type, rows, cols);
    if (data.length !== layout.ggufBytes) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `a ${GGMLType[type]} ${rows} x ${cols} weight is ${layout.ggufBytes} bytes, got ${data.length}`);
    }
    const address = this.arena.allocate(layout.valueBytes);
    const scalesAddress = layout.scaleBytes > 0 ? this.arena.allocate(layout.scaleBytes) : 0;
    writeWeight(this.arena.u8, type, data, address, scalesAddress);
    return new WasmWeight(type, rows, cols, address, scalesAddress);
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
    const tokensAddress = this.scratchArea(tokens.length * 4);
    this.arena.i32.set(tokens, tokensAddress / 4);
    this.post(this.opCodes.embed, [w.type, w.address, w.scalesAddress, w.cols, tokensAddress, tokens.length, o.address]);
    this.run(tokens.length * w.cols >= PARALLEL_MIN_ELEMENTS && tokens.length > 1);
  }

  matmul(out: Activation, weight: Weight, x: Activation, nTokens: number): void {
    const o = this.activation(out);
    const w = this.weight(weight);
    const input = this.activation(x);
    checkCount(nTokens);
    checkRange(input, 0, nTokens * w.cols);
    checkRange(o, 0, nTokens * w.rows);
    let xq = 0, xd = 0, xsum = 0;
    if (QUANTIZED_ACTIVATION_TYPES.has(w.type)) {
      // q8 form of x: int16 values, then f32 block scales, then f32 block sums (quantize.ts).
      const blocks = (nTokens * w.cols) / 32;
      xq = this.scratchArea(nTokens * w.cols * 2 + blocks * 8);
      xd = xq + nTokens * w.cols * 2;
      xsum = xd + blocks * 4;
      this.post(this.opCodes.quantize, [input.address, xq, xd, xsum, w.cols, nTokens]);
      this.run(nTokens > 1 && nTokens * w.cols >= PARALLEL_MIN_ELEMENTS);
    }
    this.post(this.opCodes.matmul, [w.type, w.address, w.scalesAddress, w.rows, w.cols, input.address, xq, xd, xsum, o.address, nTokens]);
    this.run(w.rows * w.cols >= PARALLEL_MIN_WEIGHT_ELEMENTS);
  }

  rmsnorm(out: Activation, x: Activation, gain: Activation, nRows: number, eps: number): void {
    const o = this.activation(out), input = this.activation(x), g = this.activation(gain);
    checkCount(nRows);
    checkRange(input, 0, nRows * g.length);
    checkRange(o, 0, nRows * g.length);
    this.post(this.opCodes.rmsnorm, [o.address, input.address, g.address, g.length, nRows], [[5, eps]]);
    this.run(nRows > 1 && nRows * g.length >= PARALLEL_MIN_ELEMENTS);
  }

  addBias(x: Activation, bias: Activation, nRows: number): void {
    const input = this.activation(x), b = this.activation(bias);
    checkCount(nRows);
    checkRange(input, 0, nRows * b.length);
    this.post(this.opCodes.addBias, [input.address, b.address, b.length, nRows]);
    this.run(nRows > 1 && nRows * b.length >= PARALLEL_MIN_ELEMENTS);
  }

  rope(x: Activation, nTokens: number, nHeads: number, headDim: number, startPosition: number, theta: number, style: RopeStyle): void {
    const input = this.activation(x);
    checkCount(nTokens);
    if (headDim % 2 !== 0) throw new TesseraError('KERNEL_BAD_ARGUMENT', `rope needs an even head size, not ${headDim}`);
    checkRange(input, 0, nTokens * nHeads * headDim);
    this.post(this.opCodes.rope, [input.address, nTokens, nHeads, headDim, startPosition, 0, style === 'neox' ? 1 : 0], [[5, theta]]);
    this.run(nTokens > 1 && nTokens * nHeads * headDim >= PARALLEL_MIN_ELEMENTS);
  }

  attention(out: Activation, q: Activation, keys: Activation, values: Activation, shape: AttentionShape): void {
    const o = this.activation(out), query = this.activation(q), k = this.activation(keys), v = this.activation(values);
    const { nHeads, nKvHeads, headDim, startPosition, nTokens, scale } = shape;
    checkCount(nTokens);
    if (headDim % 4 !== 0 || nHeads % nKvHeads !== 0) {
      throw new TesseraError('KERNEL_BAD_ARGUMENT', `attention needs headDim % 4 == 0 and nHeads % nKvHeads == 0 (got ${headDim}, ${nHeads}/${nKvHeads})`);
    }
    if (o.address === query.address) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'attention output must not alias q');
    checkRange(query, 0, nTokens * nHeads * headDim);
    checkRange(o, 0, nTokens * nHeads * headDim);
    const positions = startPosition + nTokens;
    checkRange(k, 0, positions * nKvHeads * headDim);
    checkRange(v, 0, positions * nKvHeads * headDim);
    this.post(
      this.opCodes.attention,
      [o.address, query.address, k.address, v.address, nHeads, nKvHeads, headDim, startPosition, nTokens, 0],
      [[9, scale]],
    );
    const macs = 2 * nTokens * nHeads * headDim * (startPosition + (nTokens + 1) / 2);
    this.run(nTokens * nHeads > 1 && macs >= PARALLEL_MIN_ATTENTION_MACS);
  }

  swiglu(out: Activation, gate: Activation, up: Activation, length: number): void {
    const o = this.activation(out), g = this.activation(gate), u = this.activation(up);
    checkRange(o, 0, length);
    checkRange(g, 0, length);
    checkRange(u, 0, length);
    this.post(this.opCodes.swiglu, [o.address, g.address, u.address, length]);
    this.run(length >= PARALLEL_MIN_ELEMENTS);
  }

  add(out: Activation, a: Activation, b: Activation, length: number): void {
    const o = this.activation(out), first = this.activation(a), second = this.activation(b);
    checkRange(o, 0, length);
    checkRange(first, 0, length);
    checkRange(second, 0, length);
    this.post(this.opCodes.add, [o.address, first.address, second.address, length]);
    this.run(length >= PARALLEL_MIN_ELEMENTS);
  }

  /** Writes an op and its u32 arguments (plus f32 ones at the given indices) into the control block. */
  private post(op: number, args: readonly number[], floats: readonly (readonly [number, number])[] = []): void {
    if (args.length > CONTROL_MAX_ARGUMENTS) throw new Error('too many kernel arguments');
    const words = this.arena.i32;
    const base = this.controlAddress / 4;
    words[base + CONTROL_OP] = op;
    for (let i = 0; i < args.length; i++) words[base + CONTROL_ARGUMENTS + i] = args[i]! | 0;
    if (floats.length > 0) {
      const f32 = this.arena.f32;
      for (const [index, value] of floats) f32[base + CONTROL_ARGUMENTS + index] = value;
    }
  }

  private run(parallel: boolean): void {
    if (parallel && this.pool.lanes > 1) this.pool.runParallel();
    else this.pool.runLocal();
  }

  /** Start of a scratch region of at least `bytes`; its contents do not survive the next op. */
  private scratchArea(bytes: number): number {
    if (bytes > this.scratch.bytes) {
      const size = Math.max(bytes, this.scratch.bytes * 2, 1 << 16);
      this.scratch = { address: this.arena.allocate(size), bytes: size };
    }
    return this.scratch.address;
  }

  private activation(value: Activation): WasmActivation {
    this.checkOpen();
    if (!(value instanceof WasmActivation)) throw new TesseraError('KERNEL_BAD_ARGUMENT', 'the activation was not allocated by this wasm backend');
    return value;
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

function checkRange(buffer: WasmActivation, offset: number, length: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buffer.length) {
    throw new TesseraError('KERNEL_BAD_ARGUMENT', `elements [${offset}, ${offset + length}) fall outside a buffer of ${buffer.length}`);
  }
}

function checkCount(nTokens: number): void {
  if (!Number.isInteger(nTokens) || nTokens < 1) throw new TesseraError('KERNEL_BAD_ARGUMENT', `a row count must be a positive integer, not ${nTokens}`);
}
