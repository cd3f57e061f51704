// A pool of worker threads that run kernels.wasm over one shared memory. The calling thread is
// lane 0 and works too; workers are lanes 1..n-1. An op is posted by bumping a generation counter
// in the shared control block; each worker runs its share and increments a done counter. Both
// sides spin briefly before sleeping in Atomics.wait, since a decode step posts hundreds of ops
// and a futex wake-up costs tens of microseconds.
import type { Worker } from 'node:worker_threads';
import { TesseraError } from '../../../shared/errors.js';
import { spawnWorker, workerEntry } from '../worker/spawn.js';
import {
  CONTROL_DONE, CONTROL_ERROR, CONTROL_GENERATION, CONTROL_OP, OP_EXIT, type KernelWorkerData,
} from './kernel-abi.js';
import type { KernelExports } from './load-kernels.js';
import type { WasmMemory, WasmModule } from './wasm-api.js';

/** Polls before sleeping: long enough to cover the gap between two ops of a forward pass. */
export const DEFAULT_SPIN_ITERATIONS = 200_000;

export class LanePool {
  private disposed = false;
  private lastWorkerError = '';
  /** Resolves when every worker thread has exited (after dispose). */
  readonly exited: Promise<void>;

  private constructor(
    private readonly kernels: KernelExports,
    private readonly control: Int32Array,
    private readonly controlAddress: number,
    private readonly workers: readonly Worker[],
    private readonly spinIterations: number,
  ) {
    this.exited = Promise.all(workers.map((worker) => new Promise<void>((resolve) => worker.once('exit', () => resolve())))).then(() => undefined);
    for (const worker of workers) {
      worker.on('message', (message: { type: string; message?: string }) => {
        if (message.type === 'error') this.lastWorkerError = message.message ?? '';
      });
    }
  }

  static async start(options: {
    module: WasmModule;
    memory: WasmMemory;
    kernels: KernelExports;
    controlAddress: number;
    lanes: number;
    spinIterations?: number;
  }): Promise<LanePool> {
    const spinIterations = options.spinIterations ?? DEFAULT_SPIN_ITERATIONS;
    const control = new Int32Array(options.memory.buffer, options.controlAddress, 64);
    const workers: Worker[] = [];
    const ready: Promise<void>[] = [];
    for (let lane = 1; lane < options.lanes; lane++) {
      const workerData: KernelWorkerData = {
        module: options.module, memory: options.memory, controlAddress: options.controlAddress,
        lane, lanes: options.lanes, spinIterations,
      };
      const worker = spawnWorker(workerEntry(import.meta.url, 'kernel-worker'), { workerData });
      // A backend someone forgot to dispose must not keep the process alive.
      worker.unref();
      workers.push(worker);
      ready.push(new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', (error) => reject(new TesseraError('ENGINE_WORKER_FAILED', `kernel worker ${lane} failed to start: ${error.message}`, { cause: error })));
        worker.once('exit', (code) => reject(new TesseraError('ENGINE_WORKER_FAILED', `kernel worker ${lane} exited with ${code} while starting`)));
      }));
    }
    const pool = new LanePool(options.kernels, control, options.controlAddress, workers, spinIterations);
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

  /** Runs the op already written into the control block on every lane; returns when all are done. */
  runParallel(): void {
    if (this.disposed) throw new TesseraError('ENGINE_CLOSED', 'the compute backend was disposed');
    const control = this.control;
    const others = this.workers.length;
    Atomics.store(control, CONTROL_DONE, 0);
    Atomics.store(control, CONTROL_ERROR, 0);
    Atomics.add(control, CONTROL_GENERATION, 1);
    Atomics.notify(control, CONTROL_GENERATION);
    try {
      this.kernels.runOp(this.controlAddress, 0, others + 1);
    } finally {
      this.waitForWorkers(others);
    }
    if (Atomics.load(control, CONTROL_ERROR) !== 0) {
      throw new TesseraError('ENGINE_WORKER_FAILED', `a kernel lane failed${this.lastWorkerError ? `: ${this.lastWorkerError}` : ''}`);
    }
  }

  /** Runs the op in the control block on the calling thread alone (small ops). */
  runLocal(): void {
    if (this.disposed) throw new TesseraError('ENGINE_CLOSED', 'the compute backend was disposed');
    this.kernels.runOp(this.controlAddress, 0, 1);
  }

  private waitForWorkers(count: number): void {
    const control = this.control;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(control, CONTROL_DONE);
      if (done >= count) return;
      if (++spins >= this.spinIterations) {
        Atomics.wait(control, CONTROL_DONE, done);
        spins = 0;
      }
    }
  }

  /** Tells the workers to leave and terminates them. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.control, CONTROL_OP, OP_EXIT);
    Atomics.add(this.control, CONTROL_GENERATION, 1);
    Atomics.notify(this.control, CONTROL_GENERATION);
    for (const worker of this.workers) void worker.terminate();
  }
}
