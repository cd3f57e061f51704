// Where the engine's time goes: `tsx bench/engine-profile.ts <model.gguf> [threads] [prefillTokens]`.
// Wraps the compute backend so every op is timed (wall clock around the synchronous call), runs a
// prefill and a few decode steps, and prints milliseconds and calls per op (matmuls split by
// weight shape). A debugging aid, not the benchmark: timing each op adds a little overhead.

import { open } from 'node:fs/promises';
import type { ComputeBackend, Weight } from '../main/engine/backend.js';
import { readGGUFHeader, readTensorBytes } from '../main/engine/gguf/reader.js';
import { GGMLType } from '../main/engine/gguf/types.js';
import { WasmBackend } from '../main/engine/kernels/wasm-backend.js';
import { createKvCache, createRunState, forward, loadShard } from '../main/engine/model/llama.js';

const [path, threadText, prefillText] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: tsx bench/engine-profile.ts <model.gguf> [threads] [prefillTokens]');
const threads = Number(threadText ?? 2);
const prefillTokens = Number(prefillText ?? 512);
const DECODE_STEPS = 16;

const times = new Map<string, { ms: number; calls: number }>();
function timed(backend: ComputeBackend): ComputeBackend {
  return new Proxy(backend, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || ['alloc', 'allocHalf', 'uploadWeight', 'beginWeight', 'dispose'].includes(String(name))) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        let key = String(name);
        const shape = (w: Weight) => `${GGMLType[w.type]} ${w.rows}x${w.cols}`;
        if (key === 'matmul') key += ` ${shape(args[1] as Weight)}`;
        if (key === 'matmulShared') key += ` ${(args[1] as Weight[]).map(shape).join(' + ')}`;
        const started = performance.now();
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        const entry = times.get(key) ?? { ms: 0, calls: 0 };
        entry.ms += performance.now() - started;
        entry.calls++;
        times.set(key, entry);
        return result;
      };
    },
  });
}

function report(title: string, wallMs: number, per: number): void {
  const rows = [...times].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, v]) => sum + v.ms, 0);
  console.log(`\n${title}: wall ${wallMs.toFixed(0)} ms, in ops ${total.toFixed(0)} ms`);
  for (const [name, v] of rows) console.log(`  ${name.padEnd(52)} ${(v.ms / per).toFixed(2).padStart(9)} ms  ${(v.calls / per).toFixed(0).padStart(5)} calls  ${((100 * v.ms) / total).toFixed(1)}%`);
  times.clear();
}

const file = await open(path, 'r');
const header = await readGGUFHeader(file);
const wasm = await WasmBackend.create({ threads });
const loadStarted = performance.now();
const shard = await loadShard({
  header,
  backend: timed(wasm),
  readTensor: (t) => readTensorBytes(file, t),
  readTensorRange: async (t, offset, target) => void (await file.read(target, 0, target.length, t.offset + offset)),
});
console.log(`load ${(performance.now() - loadStarted).toFixed(0)} ms, rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
await file.close();
const state = createRunState(shard, process.env.PROFILE_BATCH ? Number(process.env.PROFILE_BATCH) : undefined);
const cache = createKvCache(shard, Math.max(1024, prefillTokens + DECODE_STEPS));
const tokens = Int32Array.from({ length: prefillTokens }, (_, i) => 1000 + ((i * 7919) % 50000));
forward(shard, state, cache, tokens.subarray(0, 16), 0);
times.clear();
let started = performance.now();
forward(shard, state, cache, tokens, 0);
report(`prefill ${prefillTokens} tokens (${((prefillTokens * 1000) / (performance.now() - started)).toFixed(1)} tok/s)`, performance.now() - started, 1);
started = performance.now();
for (let i = 0; i < DECODE_STEPS; i++) forward(shard, state, cache, Int32Array.of(1000 + i), prefillTokens + i);
const decodeMs = performance.now() - started;
report(`decode, per token (${((DECODE_STEPS * 1000) / decodeMs).toFixed(1)} tok/s)`, decodeMs / DECODE_STEPS, DECODE_STEPS);
console.log(`peak rss ${((process.resourceUsage().maxRSS * 1024) / 1e6).toFixed(0)} MB`);
wasm.dispose();
process.exit(0);
