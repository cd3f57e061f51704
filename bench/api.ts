// `npm run bench:api`: what the OpenAI API costs on top of the engine, what prefix reuse buys
// a tool loop's second turn, and throughput with 1, 4 and 16 concurrent streaming clients.
// Writes bench/results/api.json and api.md.
//
// Env: BENCH_MODEL (a GGUF; default: a Qwen3-0.6B-shaped Q8_0 random model in .models/),
// BENCH_THREADS (default: cores), BENCH_TOKENS (tokens per answer, default 64).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
}

/** One streamed answer through the API, timed as a client sees it. */
async function viaApi(conversation: OpenAI.Chat.ChatCompletionMessageParam[], maxTokens = tokens): Promise<Run & { cached: number; text: string }> {
  const started = performance.now();
  let first = 0;
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
    const piece = chunk.choices[0]?.delta.content ?? '';
    if (piece && first === 0) first = performance.now();
    text += piece;
    if (chunk.usage) {
      completionTokens = chunk.usage.completion_tokens;
      cached = chunk.usage.prompt_tokens_details?.cached_tokens ?? 0;
    }
  }
  const end = performance.now();
  return { ttftMs: first - started, tokensPerSecond: (completionTokens - 1) / ((end - first) / 1000), completionTokens, cached, text };
}

/** The same answer from the engine directly (same prompt text, same sampling). */
async function viaEngine(round: number): Promise<Run> {
  const { request } = parseChatBody({ model: model.id, messages: conversation(round) });
  const prompt = renderPrompt(model, request);
  const started = performance.now();
  let first = 0;
  let completionTokens = 0;
  let decodeStart = 0;
  for await (const event of model.engine.generate({ prompt, sampling: { temperature: 0 }, maxTokens: tokens })) {
    if (event.type === 'token' && first === 0) first = decodeStart = performance.now();
    if (event.type === 'done') completionTokens = event.usage.completionTokens;
  }
  const end = performance.now();
  return { ttftMs: first - started, tokensPerSecond: (completionTokens - 1) / ((end - decodeStart) / 1000), completionTokens };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

// Overhead: alternate engine and API runs with a cold cache each time (a different system prompt prefix).
const engineRuns: Run[] = [];
const apiRuns: Run[] = [];
for (let round = 0; round < 6; round += 2) {
  engineRuns.push(await viaEngine(round));
  apiRuns.push(await viaApi(conversation(round + 1)));
}
const engineTps = median(engineRuns.map((run) => run.tokensPerSecond));
const apiTps = median(apiRuns.map((run) => run.tokensPerSecond));
const engineTtft = median(engineRuns.map((run) => run.ttftMs));
const apiTtft = median(apiRuns.map((run) => run.ttftMs));

// Prefix reuse: the second turn of a conversation repeats the first.
const messages = conversation(100);
const firstTurn = await viaApi(messages);
const secondTurn = await viaApi([...messages, { role: 'assistant', content: firstTurn.text }, { role: 'user', content: 'Make it shorter.' }]);

// Concurrency: every client streams an answer; all must succeed.
const concurrency: { clients: number; errors: number; aggregateTokensPerSecond: number; seconds: number }[] = [];
for (const clients of [1, 4, 16]) {
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: clients }, (_, i) => viaApi([{ role: 'user', content: `Question number ${i}?` }], 32)));
  const seconds = (performance.now() - started) / 1000;
  const done = results.filter((result): result is PromiseFulfilledResult<Run & { cached: number; text: string }> => result.status === 'fulfilled');
  const produced = done.reduce((sum, result) => sum + result.value.completionTokens, 0);
  concurrency.push({ clients, errors: clients - done.length, aggregateTokensPerSecond: produced / seconds, seconds });
}

await server.close();
await model.engine.close();

const lines = [
  '# API benchmark',
  '',
  `Model ${model.id}, ${threads} threads, ${tokens} tokens per answer, greedy, ${new Date().toISOString()}.`,
  '',
  '| path | time to first token ms | decode tok/s |',
  '| --- | --- | --- |',
  `| engine alone | ${engineTtft.toFixed(0)} | ${engineTps.toFixed(1)} |`,
  `| OpenAI API (streamed, openai SDK) | ${apiTtft.toFixed(0)} | ${apiTps.toFixed(1)} |`,
  `| API overhead | ${(((apiTtft - engineTtft) / engineTtft) * 100).toFixed(1)}% | ${(((engineTps - apiTps) / engineTps) * 100).toFixed(1)}% |`,
  '',
  `Prefix reuse: first turn TTFT ${firstTurn.ttftMs.toFixed(0)} ms; second turn TTFT ${secondTurn.ttftMs.toFixed(0)} ms with ${secondTurn.cached} prompt tokens reused (${(firstTurn.ttftMs / secondTurn.ttftMs).toFixed(1)}× faster).`,
  '',
  '| concurrent streaming clients | errors | aggregate tok/s | wall s |',
  '| --- | --- | --- | --- |',
  ...concurrency.map((row) => `| ${row.clients} | ${row.errors} | ${row.aggregateTokensPerSecond.toFixed(1)} | ${row.seconds.toFixed(1)} |`),
];
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'api.json'), `${JSON.stringify({ engineRuns, apiRuns, firstTurn, secondTurn, concurrency }, null, 2)}\n`);
writeFileSync(join(root, 'bench', 'results', 'api.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
process.exit(0);
