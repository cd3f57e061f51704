// One side of the engine benchmark, in a process of its own so that its load time and peak
// memory are its own: `tsx bench/engine-child.ts <tessera|llama.cpp> <model.gguf> <threads>`.
// Prints one JSON line: load ms, prefill tokens/s (512-token prompt), decode tokens/s (128
// tokens after a 128-token prompt), peak RSS.

import { Engine } from '../main/engine/index.js';

const [runtime, modelPath, threadText] = process.argv.slice(2);
const threads = Number(threadText ?? 2);
const PREFILL_TOKENS = 512;
/** The decode figure's prompt length: BENCH_DECODE_PROMPT (default 128) shows decode at long contexts. */
const DECODE_PROMPT_TOKENS = Number(process.env.BENCH_DECODE_PROMPT ?? 128);
const DECODE_TOKENS = 128;
const CONTEXT_LENGTH = Math.max(1024, DECODE_PROMPT_TOKENS + DECODE_TOKENS);

/** Deterministic prompt token ids from the ordinary part of the vocabulary (no control tokens). */
function promptIds(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return 1000 + (state % 50000);
  });
}

interface Result {
  runtime: string;
  loadMs: number;
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  decodedTokens: number;
  peakRssBytes: number;
}

async function tessera(): Promise<Result> {
  const started = performance.now();
  const engine = await Engine.load({ path: modelPath!, threads, contextLength: CONTEXT_LENGTH, maxSequences: 1 });
  const loadMs = performance.now() - started;

  // Prefill: the whole prompt in one forward pass, logits of its last position.
  const prefillIds = promptIds(PREFILL_TOKENS, 1);
  await engine.forwardShard({ sequence: 'warmup', position: 0, input: Int32Array.from(prefillIds.slice(0, 16)) });
  const prefillStarted = performance.now();
  await engine.forwardShard({ sequence: 'prefill', position: 0, input: Int32Array.from(prefillIds) });
  const prefillSeconds = (performance.now() - prefillStarted) / 1000;
  await engine.dropSequence('prefill');
  await engine.dropSequence('warmup');

  // Decode: greedy generation after a short prompt, timed by the engine per token.
  let decodeTokensPerSecond = 0;
  let decodedTokens = 0;
  for await (const event of engine.generate({ tokens: promptIds(DECODE_PROMPT_TOKENS, 2), sampling: { temperature: 0 }, maxTokens: DECODE_TOKENS, sequence: 'decode' })) {
    if (event.type === 'done') {
      decodeTokensPerSecond = event.timing.decodeTokensPerSecond;
      decodedTokens = event.usage.completionTokens;
    }
  }
  await engine.close();
  return { runtime: 'tessera', loadMs, prefillTokensPerSecond: PREFILL_TOKENS / prefillSeconds, decodeTokensPerSecond, decodedTokens, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function llamaCpp(): Promise<Result> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const started = performance.now();
  const model = await llama.loadModel({ modelPath: modelPath!, gpuLayers: 0 });
  const context = await model.createContext({ contextSize: CONTEXT_LENGTH, threads, batchSize: PREFILL_TOKENS, sequences: 2 });
  const loadMs = performance.now() - started;

  const prefillSequence = context.getSequence();
  const prefillIds = promptIds(PREFILL_TOKENS, 1) as never[];
  const prefillStarted = performance.now();
  await prefillSequence.controlledEvaluate(prefillIds);
  const prefillSeconds = (performance.now() - prefillStarted) / 1000;
  prefillSequence.dispose();

  const sequence = context.getSequence();
  const decodeIds = promptIds(DECODE_PROMPT_TOKENS, 2) as never[];
  let decodedTokens = 0;
  let firstTokenAt = 0;
  for await (const token of sequence.evaluate(decodeIds, { temperature: 0 })) {
    void token;
    decodedTokens++;
    if (decodedTokens === 1) firstTokenAt = performance.now();
    if (decodedTokens >= DECODE_TOKENS) break;
  }
  const decodeSeconds = (performance.now() - firstTokenAt) / 1000;
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return {
    runtime: 'llama.cpp',
    loadMs,
    prefillTokensPerSecond: PREFILL_TOKENS / prefillSeconds,
    decodeTokensPerSecond: (decodedTokens - 1) / decodeSeconds,
    decodedTokens,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

const result = runtime === 'tessera' ? await tessera() : await llamaCpp();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
