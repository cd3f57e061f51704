// A node's compute figure for the planner: bytes of weights a matrix-vector pass streams per
// second. Measured once at start with a short f32 matvec in plain JavaScript on the main thread
// (~50 ms), times the core count the engine's kernel threads use. It is an estimate, not the WASM
// kernels' speed: what the planner needs is how nodes compare, and every node measures the same way.
import { availableParallelism } from 'node:os';

/** Rows × columns of the benchmark matrix (4 MiB of f32: larger than most L2 caches). */
const BENCH_ROWS = 1024;
const BENCH_COLUMNS = 1024;
/** How long the benchmark runs. */
export const KERNEL_BENCH_MS = 50;

export function measureKernelThroughput(durationMs = KERNEL_BENCH_MS): number {
  const matrix = new Float32Array(BENCH_ROWS * BENCH_COLUMNS);
  for (let index = 0; index < matrix.length; index++) matrix[index] = ((index * 2654435761) % 1000) / 1000 - 0.5;
  const vector = new Float32Array(BENCH_COLUMNS).fill(0.5);
  const output = new Float32Array(BENCH_ROWS);
  let passes = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < durationMs || passes < 2) {
    for (let row = 0; row < BENCH_ROWS; row++) {
      let sum = 0;
      const base = row * BENCH_COLUMNS;
      for (let column = 0; column < BENCH_COLUMNS; column++) sum += matrix[base + column]! * vector[column]!;
      output[row] = sum;
    }
    passes++;
    elapsed = performance.now() - started;
  }
  const bytesPerSecond = (passes * matrix.byteLength) / (elapsed / 1000);
  // Two significant digits: run-to-run noise should not reorder equal machines' plans.
  const total = bytesPerSecond * Math.max(1, availableParallelism());
  const scale = 10 ** (Math.floor(Math.log10(total)) - 1);
  return Math.round(total / scale) * scale + (output[0]! === Infinity ? 1 : 0);
}

/** Parses `--memory-limit`: bytes, or a number with K, M, G or T (powers of 1024), e.g. `4G`, `512M`. */
export function parseMemorySize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (match === null) return undefined;
  const power = { '': 0, k: 1, m: 2, g: 3, t: 4 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(match[1]) * 1024 ** power);
}
