// Micro-benchmark of the wasm kernels: weight-streaming bandwidth of the decode matvec and
// arithmetic rate of the prefill path, per kernel build (plain / relaxed SIMD) on 1 and 2 threads.
// and attention (Qwen3-0.6B's 16 query / 8 kv heads of 128, f16 cache): a 512-token prefill and
// one decode step at position 512.
// Run: npx tsx bench/kernels.ts   (BENCH_SECONDS per figure, BENCH_TYPES=Q8_0,Q4_K,...,attention)
//
// The machine may be shared, so wall time lies. Each figure is the best of many short trials
// (a trial the OS interrupted is slower, never faster), and single-thread figures also give
// CPU time (process.cpuUsage), which excludes time spent descheduled.
import { GGMLType } from '../main/engine/gguf/types.js';
import { relaxedSimdSupported, type KernelVariant } from '../main/engine/kernels/load-kernels.js';
import { randomWeightBytes } from '../main/engine/kernels/scalar-reference.js';
import { ggufWeightBytes } from '../main/engine/kernels/weight-layout.js';
import { WasmBackend } from '../main/engine/kernels/wasm-backend.js';

const MATVEC_SHAPES: readonly (readonly [number, number])[] = [[1024, 3072], [3072, 1024], [151936, 1024]];
const PREFILL_TOKENS = Number(process.env.BENCH_PREFILL_TOKENS ?? 64);
/** Seconds each figure is measured for. */
const MEASURE_SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
/** Weight bytes cycled through per matvec figure: well past every cache, so weights come from memory. */
const STREAM_BYTES = 256 << 20;
const PARTS = (process.env.BENCH_TYPES ?? 'Q8_0,Q4_K,Q6_K,Q4_0,F16,attention').split(',');
const TYPES = PARTS.filter((name) => name !== 'attention').map((name) => GGMLType[name as keyof typeof GGMLType]);
const ATTENTION = { nHeads: 16, nKvHeads: 8, headDim: 128, contextTokens: 512, layers: 28 } as const;

function fastRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
}

/** Best wall seconds per run over short trials, and CPU seconds per run over the whole time. */
function timeIt(run: () => void): { wall: number; cpu: number } {
  run();
  let best = Infinity, runs = 0;
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  while (performance.now() - started < MEASURE_SECONDS * 1000) {
    const t0 = performance.now();
    run();
    best = Math.min(best, (performance.now() - t0) / 1000);
    runs++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return { wall: best, cpu: (cpu.user + cpu.system) / 1e6 / runs };
}

const variants: KernelVariant[] = relaxedSimdSupported() ? ['simd', 'relaxed-simd'] : ['simd'];
for (const kernels of variants) {
  for (const threads of [1, 2]) {
    const backend = await WasmBackend.create({ threads, kernels });
    const label = `${kernels.padEnd(12)} threads=${threads}`;
    for (const type of TYPES) {
      for (const [rows, cols] of MATVEC_SHAPES) {
        if (rows > 100_000 && type !== GGMLType.Q8_0 && type !== GGMLType.Q4_K && type !== GGMLType.Q6_K) continue;
        const bytes = randomWeightBytes(type, rows, cols, fastRandom(rows));
        const copies = Math.max(1, Math.ceil(STREAM_BYTES / ggufWeightBytes(type, rows, cols)));
        const weights = Array.from({ length: copies }, () => backend.uploadWeight(type, rows, cols, bytes));
        const x = backend.alloc(cols), out = backend.alloc(rows);
        backend.write(x, Float32Array.from({ length: cols }, (_, i) => Math.sin(i)));
        let next = 0;
        const { wall, cpu } = timeIt(() => backend.matmul(out, weights[next++ % copies]!, x, 1));
        const cpuNote = threads === 1 ? `  (CPU time ${(bytes.length / cpu / 1e9).toFixed(1)} GB/s)` : '';
        console.log(`${label} matvec  ${GGMLType[type].padEnd(4)} ${`${rows}x${cols}`.padEnd(12)} ${(wall * 1e6).toFixed(0).padStart(6)} us ${(bytes.length / wall / 1e9).toFixed(1).padStart(5)} GB/s${cpuNote}`);
      }
      const [rows, cols] = [3072, 1024];
      // Several copies cycled through, as the layers of a model are: each call's weights come
      // from memory, not from the cache the previous call left them in.
      const prefillBytes = randomWeightBytes(type, rows, cols, fastRandom(7));
      const prefillCopies = Math.max(1, Math.ceil((64 << 20) / ggufWeightBytes(type, rows, cols)));
      const prefillWeights = Array.from({ length: prefillCopies }, () => backend.uploadWeight(type, rows, cols, prefillBytes));
      const x = backend.alloc(PREFILL_TOKENS * cols), out = backend.alloc(PREFILL_TOKENS * rows);
      backend.write(x, Float32Array.from({ length: PREFILL_TOKENS * cols }, (_, i) => Math.sin(i)));
      let nextPrefill = 0;
      const { wall, cpu } = timeIt(() => backend.matmul(out, prefillWeights[nextPrefill++ % prefillCopies]!, x, PREFILL_TOKENS));
      const flops = 2 * rows * cols * PREFILL_TOKENS;
      const cpuNote = threads === 1 ? `  (CPU time ${(flops / cpu / 1e9).toFixed(1)} GFLOP/s)` : '';
      console.log(`${label} prefill ${GGMLType[type].padEnd(4)} ${rows}x${cols} x ${PREFILL_TOKENS} ${(wall * 1e3).toFixed(2).padStart(6)} ms ${(flops / wall / 1e9).toFixed(1).padStart(5)} GFLOP/s${cpuNote}`);
    }
    if (PARTS.includes('attention')) benchAttention(backend, label);
    backend.dispose();
  }
}

function benchAttention(backend: WasmBackend, label: string): void {
  const { nHeads, nKvHeads, headDim, contextTokens, layers } = ATTENTION;
  const random = fastRandom(11);
  const kvLength = (contextTokens + 1) * nKvHeads * headDim;
  // One cache per layer, cycled through, so keys and values come from memory as in a model.
  const caches = Array.from({ length: layers }, () => {
    const keys = backend.allocHalf(kvLength), values = backend.allocHalf(kvLength);
    backend.write(keys, Float32Array.from({ length: kvLength }, () => random() * 2 - 1));
    backend.write(values, Float32Array.from({ length: kvLength }, () => random() * 2 - 1));
    return { keys, values };
  });
  const q = backend.alloc(contextTokens * nHeads * headDim), out = backend.alloc(contextTokens * nHeads * headDim);
  backend.write(q, Float32Array.from({ length: contextTokens * nHeads * headDim }, () => random() * 2 - 1));
  const shape = { nHeads, nKvHeads, headDim, scale: 1 / Math.sqrt(headDim) };
  let next = 0;
  const run = (startPosition: number, nTokens: number) => () => {
    const { keys, values } = caches[next++ % layers]!;
    backend.attention(out, q, keys, values, { ...shape, startPosition, nTokens });
  };
  const prefill = timeIt(run(0, contextTokens));
  const decode = timeIt(run(contextTokens, 1));
  console.log(`${label} attention prefill ${contextTokens} ${(prefill.wall * 1e3).toFixed(2).padStart(6)} ms   decode @${contextTokens} ${(decode.wall * 1e6).toFixed(0).padStart(5)} us`);
}
