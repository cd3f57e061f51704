// Worker used by spawn.test.ts: answers with the resource limits it runs under, read inside the
// thread (the parent's worker.resourceLimits is empty once the thread has exited).
import { parentPort, resourceLimits } from 'node:worker_threads';

parentPort?.postMessage(resourceLimits);
