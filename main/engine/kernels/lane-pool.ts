// A pool of worker threads that run kernels.wasm over shared memories (arenas). The calling
// thread is lane 0 and works too; workers are lanes 1..n-1. An op is posted into its arena's
// control block cut into chunks; bumping the generation counter wakes the workers, and every lane
// claims chunks until none is left (see kernel-abi.ts). The caller returns once every chunk is
// done, whichever lanes ran them. Both sides spin briefly before sleeping in Atomics.wait, since
// a decode step posts hundreds of ops and a futex wake-up costs tens of microseconds.
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import { TesseraError } from '../../../shared/errors.js';
import { spawnWorker, workerEntry } from '../worker/spawn.js';
import {
  CLAIM_TAG_SHIFT, CONTROL_ARENA, CONTROL_CHUNKS, CONTROL_CLAIM, CONTROL_DONE, CONTROL_ERROR, CONTROL_GENERATION,
  CONTROL_OP, MAX_CHUNKS, OP_EXIT, claimTag, type ArenaHandle, type KernelWorkerData,
} from './kernel-abi.js';
import type { KernelExports } from './load-kernels.js';
import type { WasmModule } from './wasm-api.js';

/**
 * Polls before sleeping (~50–100 µs): long enough to cover the gap between two ops of a forward
 * pass, short enough that lanes are asleep between tokens. Spinning longer (200 000) kept idle
 * lanes on the cores while the main thread sampled and streamed, and while another node on the
 * same machine ran its shard: 2 nodes on loopback went from 0.89x to 0.97x of one node with this.
 */
export const DEFAULT_SPIN_ITERATIONS = 20_000;

/** An arena as the calling thread sees it. */
export interface PoolArena extends ArenaHandle {
  readonly kernels: KernelExports;
}

export class LanePool {
  private disposed = false;
  private failed = false;
  private lastWorkerError = '';
  private readonly arenas: { kernels: KernelExports; controlAddress: number; control: Int32Array }[] = [];
  /** Resolves when every worker thread has exited (after dispose). */
  readonly exited: Promise<void>;

  private constructor(
    private readonly workers: readonly Worker[],
    private readonly arenaPorts: readonly MessagePort[],
    private readonly spinIterations: number,
  ) {
    this.exited = Promise.all(workers.map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())))).then(() => undefined);
    for (const worker of workers) {
      worker.on('message', (message: { type: string; message?: string }) => {
        if (message.type === 'error') this.lastWorkerError = message.message ?? '';
      });
    }
  }

  static async start(options: { module: WasmModule; arena: PoolArena; lanes: number; spinIterations?: number }): Promise<LanePool> {
    const spinIterations = options.spinIterations ?? DEFAULT_SPIN_ITERATIONS;
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    const ready: Promise<void>[] = [];
    const arena: ArenaHandle = { memory: options.arena.memory, controlAddress: options.arena.controlAddress };
    for (let lane = 1; lane < options.lanes; lane++) {
      const channel = new MessageChannel();
      const workerData: KernelWorkerData = { module: options.module, arena, arenaPort: channel.port2, lane, spinIterations };
      const worker = spawnWorker(workerEntry(import.meta.url, 'kernel-worker'), { workerData, transferList: [channel.port2] });
      // A backend someone forgot to dispose must not keep the process alive.
      worker.unref();
      channel.port1.unref();
      workers.push(worker);
      ports.push(channel.port1);
      ready.push(new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', (error) => reject(new TesseraError('ENGINE_WORKER_FAILED', `kernel worker ${lane} failed to start: ${error.message}`, { cause: error })));
        worker.once('exit', (code) => reject(new TesseraError('ENGINE_WORKER_FAILED', `kernel worker ${lane} exited with ${code} while starting`)));
      }));
    }
    const pool = new LanePool(workers, ports, spinIterations);
    pool.arenas.push(localArena(options.arena));
    try {
      await Promise.all(ready);
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    return pool;
  }

  get lanes(): number {
    return this.workers.length + 1;
  }

  /** Makes another arena known to every lane; it gets the next index (1, 2, ...). */
  addArena(arena: PoolArena): number {
    this.arenas.push(localArena(arena));
    for (const port of this.arenaPorts) port.postMessage({ memory: arena.memory, controlAddress: arena.controlAddress });
    return this.arenas.length - 1;
  }

  /**
   * Runs the op already written into arena `arenaIndex`'s control block, cut into `chunks`
   * chunks, on every lane (`parallel`) or on the calling thread alone; returns when all are done.
   */
  run(arenaIndex: number, chunks: number, parallel: boolean): void {
    if (this.disposed) throw new TesseraError('ENGINE_CLOSED', 'the compute backend was disposed');
    if (this.failed) throw new TesseraError('ENGINE_WORKER_FAILED', `an earlier kernel failed${this.lastWorkerError ? `: ${this.lastWorkerError}` : ''}`);
    if (!Number.isInteger(chunks) || chunks < 1 || chunks >= MAX_CHUNKS) throw new TesseraError('KERNEL_BAD_ARGUMENT', `cannot cut an op into ${chunks} chunks`);
    const target = this.arenas[arenaIndex]!;
    const wake = this.arenas[0]!.control;
    const wakeWorkers = parallel && this.workers.length > 0;
    // Local ops keep the current generation: a lane still looking at it can only claim a chunk of
    // this op (reading its arguments after the claim), which is harmless; the wait below covers it.
    const generation = Atomics.load(wake, CONTROL_GENERATION) + (wakeWorkers ? 1 : 0);
    const control = target.control;
    Atomics.store(control, CONTROL_DONE, 0);
    Atomics.store(control, CONTROL_CHUNKS, chunks);
    Atomics.store(control, CONTROL_CLAIM, claimTag(generation) << CLAIM_TAG_SHIFT);
    if (wakeWorkers) {
      Atomics.store(wake, CONTROL_ARENA, arenaIndex);
      Atomics.store(wake, CONTROL_GENERATION, generation);
      Atomics.notify(wake, CONTROL_GENERATION);
    }
    try {
      target.kernels.runOp(target.controlAddress, claimTag(generation));
    } catch (error) {
      this.failed = true;
      throw new TesseraError('ENGINE_WORKER_FAILED', `a kernel failed on the calling thread: ${String(error)}`, { cause: error });
    }
    this.waitForChunks(control, chunks);
  }

  private waitForChunks(control: Int32Array, chunks: number): void {
    const wake = this.arenas[0]!.control;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(control, CONTROL_DONE);
      if (done >= chunks) return;
      if (Atomics.load(wake, CONTROL_ERROR) !== 0) {
        this.failed = true;
        throw new TesseraError('ENGINE_WORKER_FAILED', `a kernel lane failed${this.lastWorkerError ? `: ${this.lastWorkerError}` : ''}`);
      }
      if (++spins >= this.spinIterations) {
        // Bounded, so a failing lane's flag is seen even if its notify came first.
        Atomics.wait(control, CONTROL_DONE, done, 50);
        spins = 0;
      }
    }
  }

  /** Tells the workers to leave and terminates them. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const wake = this.arenas[0]!.control;
    Atomics.store(wake, CONTROL_OP, OP_EXIT);
    Atomics.add(wake, CONTROL_GENERATION, 1);
    Atomics.notify(wake, CONTROL_GENERATION);
    for (const port of this.arenaPorts) port.close();
    for (const worker of this.workers) void worker.terminate();
  }
}

function localArena(arena: PoolArena): { kernels: KernelExports; controlAddress: number; control: Int32Array } {
  return { kernels: arena.kernels, controlAddress: arena.controlAddress, control: new Int32Array(arena.memory.buffer, arena.controlAddress, 64) };
}
