// One lane of the kernel pool: instantiates kernels.wasm over the shared memory, then loops —
// wait for the generation counter to move, run its share of the op, count itself done.
// No messages per op: only Atomics on the control block.
import { parentPort, workerData } from 'node:worker_threads';
import {
  CONTROL_DONE, CONTROL_ERROR, CONTROL_GENERATION, CONTROL_OP, OP_EXIT, type KernelWorkerData,
} from './kernel-abi.js';
import { instantiateKernels } from './load-kernels.js';

const { module, memory, controlAddress, lane, lanes, spinIterations } = workerData as KernelWorkerData;
const kernels = instantiateKernels(module, memory);
const control = new Int32Array(memory.buffer, controlAddress, 64);

let seen = Atomics.load(control, CONTROL_GENERATION);
parentPort!.postMessage({ type: 'ready' });

for (;;) {
  let spins = 0;
  while (Atomics.load(control, CONTROL_GENERATION) === seen) {
    if (++spins >= spinIterations) {
      Atomics.wait(control, CONTROL_GENERATION, seen);
      spins = 0;
    }
  }
  seen = Atomics.load(control, CONTROL_GENERATION);
  if (control[CONTROL_OP] === OP_EXIT) break;
  try {
    kernels.runOp(controlAddress, lane, lanes);
  } catch (error) {
    Atomics.store(control, CONTROL_ERROR, 1);
    parentPort!.postMessage({ type: 'error', message: String(error) });
  }
  // The last lane to finish wakes the caller if it went to sleep.
  if (Atomics.add(control, CONTROL_DONE, 1) === lanes - 2) Atomics.notify(control, CONTROL_DONE);
}
