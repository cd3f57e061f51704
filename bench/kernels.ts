// Micro-benchmark of the wasm kernels: weight-streaming bandwidth of the decode matvec (Q8_0,
// Q4_K) and arithmetic rate of the prefill path, on 1 and 2 threads.
// Run: npx tsx bench/kernels.ts
import { GGMLType } from '../main/engine/gguf/types.js';
import { randomWeightBytes } from '../main/engine/kernels/scalar-reference.js';
import { ggufWeightBytes } from '../main/engine/kernels/weight-layout.js';
import { WasmBackend } from '../main/engine/kernels/wasm-backend.js';

const MATVEC_SHAPES: readonly (readonly [number, number])[] = [[1024, 3072], [3072, 1024], [151936, 1024]];
const PREFILL_TOKENS = 64;
/** Seconds each measurement runs for. */
const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);

function fastRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
}

function timeIt(run: () => void): number {
  run();
  let iterations = 0;
  const started = performance.now();
  while (performance.now() - started < MEASURE_SECONDS * 1000) {
    run();
    iterations++;
  }
  return (performance.now() - started) / 1000 / iterations;
}

for (const threads of [1, 2]) {
  const backend = await WasmBackend.create({ threads });
  for (const type of [GGMLType.Q8_0, GGMLType.Q4_K]) {
    for (const [rows, cols] of MATVEC_SHAPES) {
      // Several copies of small matrices so the matvec reads from memory, not from cache.
      const copies = Math.max(1, Math.ceil((256 << 20) / ggufWeightBytes(type, rows, cols)));
      const bytes = randomWeightBytes(type, rows, cols, fastRandom(rows));
      const weights = Array.from({ length: copies }, () => backend.uploadWeight(type, rows, cols, bytes));
      const x = backend.alloc(cols), out = backend.alloc(rows);
      backend.write(x, Float32Array.from({ length: cols }, (_, i) => Math.sin(i)));
      let next = 0;
      const seconds = timeIt(() => backend.matmul(out, weights[next++ % copies]!, x, 1));
      const gbps = bytes.length / seconds / 1e9;
      console.log(`matvec ${GGMLType[type].padEnd(4)} ${`${rows}x${cols}`.padEnd(12)} threads=${threads}  ${(seconds * 1e6).toFixed(0).padStart(7)} us  ${gbps.toFixed(1).padStart(5)} GB/s`);
    }
    const [rows, cols] = [3072, 1024];
    const weight = backend.uploadWeight(type, rows, cols, randomWeightBytes(type, rows, cols, fastRandom(7)));
    const x = backend.alloc(PREFILL_TOKENS * cols), out = backend.alloc(PREFILL_TOKENS * rows);
    backend.write(x, Float32Array.from({ length: PREFILL_TOKENS * cols }, (_, i) => Math.sin(i)));
    const seconds = timeIt(() => backend.matmul(out, weight, x, PREFILL_TOKENS));
    const gflops = (2 * rows * cols * PREFILL_TOKENS) / seconds / 1e9;
    console.log(`prefill ${GGMLType[type].padEnd(4)} ${rows}x${cols} x ${PREFILL_TOKENS} tokens threads=${threads}  ${(seconds * 1e3).toFixed(2)} ms  ${gflops.toFixed(1)} GFLOP/s`);
  }
  backend.dispose();
}
