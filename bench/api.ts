// `npm run bench:api`: what the OpenAI API costs on top of the engine, what prefix reuse buys
// a tool loop's second turn, and throughput with 1, 4 and 16 concurrent streaming clients.
// Writes bench/results/api.json and api.md.
//
// Env: BENCH_MODEL (a GGUF; default: a Qwen3-0.6B-shaped Q8_0 random model in .models/),
// BENCH_THREADS (default: cores), BENCH_TOKENS (tokens per answer, default 64),
// BENCH_ROUNDS (engine/API pairs for the overhead, default 6), BENCH_ONLY=overhead (skip the rest).
//
// The overhead is measured on a machine that other work shares, so one run decides nothing:
// engine-alone (A) and API (B) runs alternate A B, B A, A B, … after a warm-up pair, each
// with a cold prompt cache, and the report gives the median of each path, the ratio of the
// medians and the median of the per-pair ratios (pairs ran back to back, under the same load).
// It also reports the main thread's CPU time per decoded token, the one figure load does not blur: the engine decodes on worker threads, everything the API adds
// per token (parser, JSON, SSE writes, and here the in-process openai client) runs on the main thread.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { ChatService } from '../main/api/chat/chat-service.js';
import { loadServedModel } from '../main/api/chat/served-model.js';
import { renderPrompt } from '../main/api/chat/prompt.js';
import { parseChatBody } from '../main/api/openai/chat-request.js';
import { OpenAIRouter } from '../main/api/openai/router.js';
import { HttpServer } from '../main/api/server.js';

const root = new URL('..', import.meta.url).pathname;
const threads = Number(process.env.BENCH_THREADS ?? availableParallelism());
const tokens = Number(process.env.BENCH_TOKENS ?? 64);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const overheadOnly = process.env.BENCH_ONLY === 'overhead';

async function modelPath(): Promise<string> {
  if (process.env.BENCH_MODEL) return process.env.BENCH_MODEL;
  const path = join(root, '.models', 'bench-qwen3-0.6b-Q8_0.gguf');
  if (!existsSync(path)) {
    mkdirSync(join(root, '.models'), { recursive: true });
    await writeRandomModel(path, { preset: 'qwen3-0.6b', format: 'Q8_0', seed: 1 });
  }
  return path;
}

const model = await loadServedModel({ path: await modelPath(), threads, contextLength: 2048, maxSequences: 1 });
const service = new ChatService({ get: (id) => (id === model.id ? model : undefined), list: () => [model] }, () => 'call_bench', 64);
const server = new HttpServer({ host: '127.0.0.1', port: 0 });
server.mount('/v1', new OpenAIRouter(service));
await server.listen();
const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'bench', maxRetries: 0 });

/** A conversation whose first words differ per round, so no round reuses another's cache. */
function conversation(round: number): OpenAI.Chat.ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: `Session ${round}. ${'You are a careful assistant. '.repeat(12)}` },
    { role: 'user', content: 'Write a short story about a lighthouse keeper.' },
  ];
}

interface Run {
  ttftMs: number;
  tokensPerSecond: number;
  completionTokens: number;
  /**
   * Decode rate from the median gap between successive tokens (chunks, through the API): a burst
   * of other work on the machine stretches a few gaps, not the median.
   */
  medianGapTokensPerSecond: number;
  /** Main-thread CPU time between the first and the last token, per token. */
  mainThreadMsPerToken: number;
}

/**
 * CPU time the main thread has used, in ms: Linux reports it per thread (schedstat, ns), which
 * load on the machine does not inflate. Elsewhere, the event loop's busy time (wall clock).
 */
const MAIN_THREAD_SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const mainThreadCpuMs: () => number = existsSync(MAIN_THREAD_SCHEDSTAT)
  ? () => Number(readFileSync(MAIN_THREAD_SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6
  : () => performance.eventLoopUtilization().active;
const cpuSince = (start: number): number => mainThreadCpuMs() - start;

/** Times one answer: when it was asked, each token's arrival, the end; main-thread CPU in between. */
class TokenClock {
  private readonly started = performance.now();
  private readonly arrivals: number[] = [];
  private busyAtFirst: number | undefined;
  private last = 0;
  private busy = 0;

  token(): void {
    this.arrivals.push(performance.now());
    if (this.busyAtFirst === undefined) this.busyAtFirst = mainThreadCpuMs();
  }

  end(): void {
    this.last = performance.now();
    if (this.busyAtFirst !== undefined) this.busy = cpuSince(this.busyAtFirst);
  }

  figures(completionTokens: number): Run {
    const first = this.arrivals[0] ?? this.started;
    return {
      ttftMs: first - this.started,
      tokensPerSecond: (completionTokens - 1) / ((this.last - first) / 1000),
      completionTokens,
      medianGapTokensPerSecond: 1000 / medianGap(this.arrivals),
      mainThreadMsPerToken: this.busy / Math.max(1, completionTokens - 1),
    };
  }
}

/** One streamed answer through the API, timed as a client sees it: first to last token chunk. */
async function viaApi(conversation: OpenAI.Chat.ChatCompletionMessageParam[], maxTokens = tokens): Promise<Run & { cached: number; text: string }> {
  const clock = new TokenClock();
  let text = '';
  let completionTokens = 0;
  let cached = 0;
  const stream = await client.chat.completions.create({
    model: model.id,
    messages: conversation,
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    const delta = choice?.delta as { content?: string | null; reasoning_content?: string } | undefined;
    const piece = delta?.content ?? '';
    if (piece || delta?.reasoning_content) clock.token();
    if (choice?.finish_reason) clock.end();
    text += piece;
    if (chunk.usage) {
      completionTokens = chunk.usage.completion_tokens;
      cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
    }
  }
  return { ...clock.figures(completionTokens), cached, text };
}

/** The same answer from the engine directly (same prompt text, same sampling). */
async function viaEngine(round: number): Promise<Run> {
  const { request } = parseChatBody({ model: model.id, messages: conversation(round) });
  const prompt = renderPrompt(model, request);
  const clock = new TokenClock();
  let completionTokens = 0;
  for await (const event of model.engine.generate({ prompt, sampling: { temperature: 0 }, maxTokens: tokens })) {
    if (event.type === 'token') clock.token();
    if (event.type === 'done') {
      clock.end();
      completionTokens = event.usage.completionTokens;
    }
  }
  return clock.figures(completionTokens);
}

/** Median time between successive arrivals, ms. */
function medianGap(arrivals: readonly number[]): number {
  return median(arrivals.slice(1).map((at, i) => at - arrivals[i]!));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

// Overhead: a warm-up pair, then pairs in alternating order, each run with a cold cache (its own
// system prompt prefix).
let conversationIndex = 0;
await viaEngine(conversationIndex++);
await viaApi(conversation(conversationIndex++));
const pairs: { engine: Run; api: Run }[] = [];
for (let round = 0; round < rounds; round++) {
  if (round % 2 === 0) {
    const engine = await viaEngine(conversationIndex++);
    pairs.push({ engine, api: await viaApi(conversation(conversationIndex++)) });
  } else {
    const api = await viaApi(conversation(conversationIndex++));
    pairs.push({ api, engine: await viaEngine(conversationIndex++) });
  }
  const pair = pairs[pairs.length - 1]!;
  console.log(
    `round ${round}: engine ${pair.engine.tokensPerSecond.toFixed(1)} tok/s (median gap ${pair.engine.medianGapTokensPerSecond.toFixed(1)}), ` +
      `API ${pair.api.tokensPerSecond.toFixed(1)} tok/s (median gap ${pair.api.medianGapTokensPerSecond.toFixed(1)})`,
  );
}
const engineRuns = pairs.map((pair) => pair.engine);
const apiRuns = pairs.map((pair) => pair.api);
const engineTps = median(engineRuns.map((run) => run.tokensPerSecond));
const apiTps = median(apiRuns.map((run) => run.tokensPerSecond));
const engineTtft = median(engineRuns.map((run) => run.ttftMs));
const apiTtft = median(apiRuns.map((run) => run.ttftMs));
/** Per pair: how much slower the API decoded than the engine next to it (percent). */
const pairedDecodeOverhead = median(pairs.map((pair) => (1 - pair.api.tokensPerSecond / pair.engine.tokensPerSecond) * 100));
const pairedTtftOverhead = median(pairs.map((pair) => (pair.api.ttftMs / pair.engine.ttftMs - 1) * 100));
const engineGapTps = median(engineRuns.map((run) => run.medianGapTokensPerSecond));
const apiGapTps = median(apiRuns.map((run) => run.medianGapTokensPerSecond));
const pairedGapOverhead = median(pairs.map((pair) => (1 - pair.api.medianGapTokensPerSecond / pair.engine.medianGapTokensPerSecond) * 100));
const engineBusy = median(engineRuns.map((run) => run.mainThreadMsPerToken));
const apiBusy = median(apiRuns.map((run) => run.mainThreadMsPerToken));

// Prefix reuse: the second turn of a conversation repeats the first.
let reuse: { firstTurn: Run; secondTurn: Run & { cached: number } } | undefined;
const concurrency: { clients: number; errors: number; aggregateTokensPerSecond: number; seconds: number }[] = [];
if (!overheadOnly) {
  const messages = conversation(100);
  const firstTurn = await viaApi(messages);
  const secondTurn = await viaApi([...messages, { role: 'assistant', content: firstTurn.text }, { role: 'user', content: 'Make it shorter.' }]);
  reuse = { firstTurn, secondTurn };

  // Concurrency: every client streams an answer; all must succeed.
  for (const clients of [1, 4, 16]) {
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: clients }, (_, i) => viaApi([{ role: 'user', content: `Question number ${i}?` }], 32)));
    const seconds = (performance.now() - started) / 1000;
    const done = results.filter((result): result is PromiseFulfilledResult<Run & { cached: number; text: string }> => result.status === 'fulfilled');
    const produced = done.reduce((sum, result) => sum + result.value.completionTokens, 0);
    concurrency.push({ clients, errors: clients - done.length, aggregateTokensPerSecond: produced / seconds, seconds });
  }
}

await server.close();
await model.engine.close();

const percent = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}%`;
const lines = [
  '# API benchmark',
  '',
  `Model ${model.id}, ${threads} threads, ${tokens} tokens per answer, greedy, ${rounds} engine/API pairs in alternating order after a warm-up pair, ${new Date().toISOString()}.`,
  '',
  '| path | time to first token ms | decode tok/s (first to last token) | decode tok/s (median token gap) | main-thread CPU ms per token |',
  '| --- | --- | --- | --- | --- |',
  `| engine alone (median of runs) | ${engineTtft.toFixed(0)} | ${engineTps.toFixed(1)} | ${engineGapTps.toFixed(1)} | ${engineBusy.toFixed(3)} |`,
  `| OpenAI API, streamed, openai SDK in-process (median of runs) | ${apiTtft.toFixed(0)} | ${apiTps.toFixed(1)} | ${apiGapTps.toFixed(1)} | ${apiBusy.toFixed(3)} |`,
  `| API cost, ratio of medians | ${percent(((apiTtft - engineTtft) / engineTtft) * 100)} | ${percent(((engineTps - apiTps) / engineTps) * 100)} slower | ${percent(((engineGapTps - apiGapTps) / engineGapTps) * 100)} slower | +${(apiBusy - engineBusy).toFixed(3)} ms |`,
  `| API cost, median of per-pair ratios | ${percent(pairedTtftOverhead)} | ${percent(pairedDecodeOverhead)} slower | ${percent(pairedGapOverhead)} slower | |`,
  '',
  'Per pair (engine tok/s, API tok/s): ' + pairs.map((pair) => `${pair.engine.tokensPerSecond.toFixed(1)}/${pair.api.tokensPerSecond.toFixed(1)}`).join(', ') + '.',
  ...(reuse === undefined
    ? []
    : [
        '',
        `Prefix reuse: first turn TTFT ${reuse.firstTurn.ttftMs.toFixed(0)} ms; second turn TTFT ${reuse.secondTurn.ttftMs.toFixed(0)} ms with ${reuse.secondTurn.cached} prompt tokens reused (${(reuse.firstTurn.ttftMs / reuse.secondTurn.ttftMs).toFixed(1)}× faster).`,
        '',
        '| concurrent streaming clients | errors | aggregate tok/s | wall s |',
        '| --- | --- | --- | --- |',
        ...concurrency.map((row) => `| ${row.clients} | ${row.errors} | ${row.aggregateTokensPerSecond.toFixed(1)} | ${row.seconds.toFixed(1)} |`),
      ]),
];
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'api.json'), `${JSON.stringify({ pairs, reuse, concurrency }, null, 2)}\n`);
writeFileSync(join(root, 'bench', 'results', 'api.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
process.exit(0);
