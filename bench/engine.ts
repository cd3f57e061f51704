// `npm run bench`: Tessera's engine against llama.cpp (node-llama-cpp, CPU, same threads) on
// Qwen3-0.6B-shaped random-weight models in Q8_0 and Q4_K_M, measured in the same run.
// Writes bench/results/engine.json and engine.md.
//
// Env: BENCH_THREADS (default: cores), BENCH_FORMATS (default Q8_0,Q4_K_M), BENCH_ROUNDS (default 2;
// the best of the rounds is kept, since a shared machine only ever makes a run slower).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeRandomModel, type WeightFormat } from '../main/engine/gguf/random-model.js';
import { GGMLType } from '../main/engine/gguf/types.js';
import { WasmBackend } from '../main/engine/kernels/wasm-backend.js';

const root = new URL('..', import.meta.url).pathname;
const modelsDir = join(root, '.models');
const resultsDir = join(root, 'bench', 'results');
const threads = Number(process.env.BENCH_THREADS ?? availableParallelism());
const formats = (process.env.BENCH_FORMATS ?? 'Q8_0,Q4_K_M').split(',') as WeightFormat[];
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

interface ChildResult {
  runtime: string;
  loadMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  decodedTokens: number;
  peakRssBytes: number;
}

async function modelFile(format: WeightFormat): Promise<string> {
  const path = join(modelsDir, `bench-qwen3-0.6b-${format}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(modelsDir, { recursive: true });
    console.error(`writing ${path} …`);
    await writeRandomModel(path, { preset: 'qwen3-0.6b', format, seed: 1 });
  }
  return path;
}

/**
 * The child runs the compiled engine (dist/, what `tessera` runs) when the project is built, so
 * load time and peak RSS are the shipped program's, not those of the TypeScript loader.
 */
const compiledChild = join(root, 'dist', 'bench', 'engine-child.js');
const childEntry = existsSync(compiledChild) && process.env.BENCH_FROM_SOURCE !== '1'
  ? [compiledChild]
  : ['--import', 'tsx', join(root, 'bench', 'engine-child.ts')];

function runChild(runtime: string, path: string): ChildResult {
  const child = spawnSync(process.execPath, [...childEntry, runtime, path, String(threads)], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  const line = child.stdout.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) throw new Error(`${runtime} failed: ${child.stderr}`);
  return JSON.parse(line) as ChildResult;
}

function best(results: ChildResult[]): ChildResult {
  return {
    ...results[0]!,
    loadMs: Math.min(...results.map((r) => r.loadMs)),
    prefillTokensPerSecond: Math.max(...results.map((r) => r.prefillTokensPerSecond)),
    decodeTokensPerSecond: Math.max(...results.map((r) => r.decodeTokensPerSecond)),
    peakRssBytes: Math.min(...results.map((r) => r.peakRssBytes)),
  };
}

/** Read bandwidth as Tessera's kernels see it: an F32 matvec streaming 512 MiB of weights. */
async function measureReadBandwidth(): Promise<number> {
  const cols = 4096;
  const rows = (512 << 20) / (cols * 4);
  const backend = await WasmBackend.create({ threads });
  try {
    const weight = backend.uploadWeight(GGMLType.F32, rows, cols, new Uint8Array(rows * cols * 4));
    const x = backend.alloc(cols);
    const out = backend.alloc(rows);
    backend.matmul(out, weight, x, 1);
    let bestSeconds = Infinity;
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      backend.matmul(out, weight, x, 1);
      bestSeconds = Math.min(bestSeconds, (performance.now() - started) / 1000);
    }
    return (rows * cols * 4) / bestSeconds;
  } finally {
    backend.dispose();
  }
}

const rows: { format: string; fileBytes: number; tessera: ChildResult; llama: ChildResult }[] = [];
for (const format of formats) {
  const path = await modelFile(format);
  const tesseraRuns: ChildResult[] = [];
  const llamaRuns: ChildResult[] = [];
  for (let round = 0; round < rounds; round++) {
    tesseraRuns.push(runChild('tessera', path));
    llamaRuns.push(runChild('llama.cpp', path));
  }
  rows.push({ format, fileBytes: statSync(path).size, tessera: best(tesseraRuns), llama: best(llamaRuns) });
  console.error(`${format}: done`);
}
const bandwidth = await measureReadBandwidth();

const gb = (bytes: number) => (bytes / 1e9).toFixed(2);
const ratio = (a: number, b: number) => (a / b).toFixed(2);
const lines = [
  `# Engine benchmark: Tessera vs llama.cpp`,
  '',
  `Qwen3-0.6B-shaped random-weight models, ${threads} threads, best of ${rounds} rounds, ${new Date().toISOString()}.`,
  `Tessera ran ${childEntry.length === 1 ? 'compiled (dist/)' : 'from source through tsx (run `npm run build` first for the shipped figures)'}.`,
  `Read bandwidth (Tessera F32 matvec over 512 MiB): ${gb(bandwidth)} GB/s.`,
  '',
  '| format | file GB | decode tok/s Tessera | llama.cpp | ratio | bound tok/s | prefill tok/s Tessera | llama.cpp | ratio | load ms Tessera | llama.cpp | peak RSS GB Tessera | llama.cpp | RSS / file |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(({ format, fileBytes, tessera, llama }) =>
    [
      format,
      gb(fileBytes),
      tessera.decodeTokensPerSecond.toFixed(1),
      llama.decodeTokensPerSecond.toFixed(1),
      ratio(tessera.decodeTokensPerSecond, llama.decodeTokensPerSecond),
      (bandwidth / fileBytes).toFixed(1),
      tessera.prefillTokensPerSecond.toFixed(1),
      llama.prefillTokensPerSecond.toFixed(1),
      ratio(tessera.prefillTokensPerSecond, llama.prefillTokensPerSecond),
      tessera.loadMs.toFixed(0),
      llama.loadMs.toFixed(0),
      gb(tessera.peakRssBytes),
      gb(llama.peakRssBytes),
      ratio(tessera.peakRssBytes, fileBytes),
    ].join(' | ').replace(/^/, '| ').concat(' |'),
  ),
  '',
  'Decode: 128 greedy tokens after a 128-token prompt. Prefill: one 512-token prompt. The bound is read',
  'bandwidth divided by the bytes of weights each token reads (about the file size for a tied-embedding model).',
  'Peak RSS includes the f16 KV cache of the 512-token prompt (~60 MB) and the Node runtime itself (~45 MB).',
];
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'engine.json'), `${JSON.stringify({ threads, rounds, readBandwidthBytesPerSecond: bandwidth, rows }, null, 2)}\n`);
writeFileSync(join(resultsDir, 'engine.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
process.exit(0);
