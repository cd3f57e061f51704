// One lane of the kernel pool: instantiates kernels.wasm over every arena's shared memory, then
// loops — wait for the generation counter to move, claim and run chunks of the op until none is
// left. No messages per op: only Atomics on the control blocks. Arenas added after start arrive
// on `arenaPort` and are read synchronously (receiveMessageOnPort) when an op first names one.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  CONTROL_ARENA, CONTROL_DONE, CONTROL_ERROR, CONTROL_GENERATION, CONTROL_OP, OP_EXIT, claimTag,
  type ArenaHandle, type KernelWorkerData,
} from './kernel-abi.js';
import { instantiateKernels, type KernelExports } from './load-kernels.js';

const { module, arena, arenaPort, spinIterations } = workerData as KernelWorkerData;
const arenas: { kernels: KernelExports; controlAddress: number; control: Int32Array }[] = [];

function addArena(handle: ArenaHandle): void {
  arenas.push({
    kernels: instantiateKernels(module, handle.memory),
    controlAddress: handle.controlAddress,
    control: new Int32Array(handle.memory.buffer, handle.controlAddress, 64),
  });
}

/** The arena `index`, waiting for its message if the host has only just created it. */
function arenaAt(index: number): (typeof arenas)[number] {
  while (arenas.length <= index) {
    const message = receiveMessageOnPort(arenaPort);
    if (message) addArena(message.message as ArenaHandle);
  }
  return arenas[index]!;
}

addArena(arena);
const wake = arenas[0]!.control;
let seen = Atomics.load(wake, CONTROL_GENERATION);
parentPort!.postMessage({ type: 'ready' });

for (;;) {
  let spins = 0;
  while (Atomics.load(wake, CONTROL_GENERATION) === seen) {
    if (++spins >= spinIterations) {
      Atomics.wait(wake, CONTROL_GENERATION, seen);
      spins = 0;
    }
  }
  seen = Atomics.load(wake, CONTROL_GENERATION);
  if (Atomics.load(wake, CONTROL_OP) === OP_EXIT) break;
  const target = arenaAt(Atomics.load(wake, CONTROL_ARENA));
  try {
    target.kernels.runOp(target.controlAddress, claimTag(seen));
  } catch (error) {
    // The chunk this lane claimed will never count as done: flag the op and wake the caller.
    Atomics.store(wake, CONTROL_ERROR, 1);
    Atomics.notify(target.control, CONTROL_DONE);
    parentPort!.postMessage({ type: 'error', message: String(error) });
  }
}
