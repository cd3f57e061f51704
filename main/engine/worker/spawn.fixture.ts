// Worker used by spawn.test.ts: answers workerData.value + 1.
import { parentPort, workerData } from 'node:worker_threads';

const value: number = (workerData as { value: number }).value;
parentPort?.postMessage(value + 1);
