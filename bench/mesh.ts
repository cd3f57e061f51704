// `npm run bench:mesh`: the mesh's cost on loopback. One Qwen3-shaped random model (Q8_0) served
// by 1, 2 and 3 real `tessera serve` processes whose --memory-limit forces the split; for each:
// time to first token and decode tokens/s (client side, streamed, greedy), bytes sent per token per
// hop (a sealed f16 hidden-state frame, as nodes of this version send each other), and the per-hop
// overhead (decode time per token over the single node's, divided by hops per token). Writes
// bench/results/mesh.json and mesh.md (mesh-full.* with BENCH_MESH_SIZE=full).
//
// Model: BENCH_MESH_SIZE=tiny (default) has tiny widths and BENCH_MESH_LAYERS (6) layers, so a
// token takes a few ms and the mesh's fixed costs per hop show; BENCH_MESH_SIZE=full is the real
// Qwen3-0.6B shape (28 layers, 1024 wide), the kind of model the 2-node ≥ 0.9× target is about.
// BENCH_MESH_MODEL reuses a model file of the right size (e.g. `npm run make-model`'s output).
//
// Counting: decode tokens are the server's own count (`usage.completion_tokens`, streamed with
// include_usage), not SSE chunks (a chunk is not always one token), timed from the first text
// chunk to the end of the stream. All clusters run at once and are measured in rounds, one
// completion each per round, so a burst of load from elsewhere on a shared machine hits every
// cluster alike; each figure is the median over BENCH_MESH_RUNS rounds, and the 2-over-1 ratio is
// the median of the per-round ratios.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGGUFHeader } from '../main/engine/gguf/reader.js';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { sealedLength } from '../main/mesh/frames.js';
import { plannerModelFromHeader } from '../main/mesh/model-figures.js';
import { PLAN_HEADROOM_BYTES, PLAN_HEADROOM_FRACTION } from '../main/mesh/planner.js';
import type { ClusterView } from '../shared/control.js';
import { encodeMeshMessage } from '../shared/mesh-protocol.js';
import { freePort, startTessera, type RunningNode } from '../e2e/support/tessera-process.js';

const root = new URL('..', import.meta.url).pathname;
const resultsDir = join(root, 'bench', 'results');
const size = process.env.BENCH_MESH_SIZE ?? 'tiny';
if (size !== 'tiny' && size !== 'full') throw new Error(`BENCH_MESH_SIZE is tiny or full, not ${size}`);
const layers = Number(process.env.BENCH_MESH_LAYERS ?? (size === 'tiny' ? 6 : 28));
const decodeTokens = Number(process.env.BENCH_MESH_TOKENS ?? (size === 'tiny' ? 64 : 24));
const threads = Number(process.env.BENCH_THREADS ?? 1);
const runs = Number(process.env.BENCH_MESH_RUNS ?? 9);
const nodeCounts = (process.env.BENCH_MESH_NODES ?? '1,2,3').split(',').map(Number);
if (nodeCounts[0] !== 1) throw new Error('BENCH_MESH_NODES must start with 1: the other rows are compared with it');
const CONTEXT = 1024;

interface Row {
  nodes: number;
  hopsPerToken: number;
  timeToFirstTokenMs: number;
  decodeTokensPerSecond: number;
  msPerToken: number;
  bytesPerTokenPerHop: number;
  perHopOverheadMs: number | null;
}

async function api<T = ClusterView>(node: RunningNode, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${node.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`);
  return json;
}

async function until(probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Streams one greedy completion; TTFT and decode rate (server-counted tokens over client time). */
async function measure(node: RunningNode): Promise<{ ttft: number; tokensPerSecond: number; tokens: number }> {
  const started = performance.now();
  const response = await fetch(`${node.baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench', prompt: 'The mesh carries hidden states from node to node and', temperature: 0, max_tokens: decodeTokens,
      stream: true, stream_options: { include_usage: true },
    }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let first: number | undefined;
  let tokens = 0;
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    const events = buffered.split('\n\n');
    buffered = events.pop()!;
    for (const event of events) {
      const data = event.replace(/^data: /, '');
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data) as { choices?: { text?: string }[]; usage?: { completion_tokens: number } | null };
      if (chunk.choices?.some((choice) => choice.text)) first ??= performance.now();
      if (chunk.usage) tokens = chunk.usage.completion_tokens;
    }
  }
  const ended = performance.now();
  if (first === undefined || tokens < 2) throw new Error(`the completion gave ${tokens} token(s); the figures need more`);
  // The first token comes from the prefill; the other tokens - 1 each took one decode step.
  return { ttft: first - started, tokensPerSecond: ((tokens - 1) * 1000) / (ended - first), tokens };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Figures {
  hiddenSize: number;
  memoryLimit(layerCount: number, head: boolean): number;
}

/** Starts `count` nodes joined into one cluster and loads the model so its plan spans all of them. */
async function startCluster(count: number, modelPath: string, figures: Figures, nodes: RunningNode[]): Promise<void> {
  const meshPorts: number[] = [];
  let secret = '';
  for (let index = 0; index < count; index++) {
    const meshPort = await freePort();
    meshPorts.push(meshPort);
    const share = Math.floor(layers / count) + (index < layers % count ? 1 : 0);
    const args = ['--mesh-port', String(meshPort), '--no-discovery', '--threads', String(threads), '--ctx-size', String(CONTEXT)];
    if (count > 1) args.push('--memory-limit', String(figures.memoryLimit(share, index === 0)));
    if (index > 0) args.push('--join', secret, ...meshPorts.slice(0, index).flatMap((port) => ['--peer', `127.0.0.1:${port}`]));
    const node = await startTessera({ args });
    nodes.push(node);
    if (index === 0) secret = (await api<{ joinSecret: string }>(node, 'GET', '/api/cluster/join-secret')).joinSecret;
  }
  const head = nodes[nodes.length - count]!;
  await until(async () => {
    const view = await api(head, 'GET', '/api/cluster');
    // Every pair measured (the planner rings only over measured links; peers report theirs every 5 s).
    const pairs = new Set(view.links.filter((link) => link.bandwidthBytesPerSecond !== null).map((link) => [link.from, link.to].sort().join('|')));
    return view.nodes.length === count && pairs.size === (count * (count - 1)) / 2
      && view.nodes.every((node) => node.device !== null);
  });
  await api(head, 'POST', '/api/models/load', { path: modelPath });
  const view = await api(head, 'GET', '/api/cluster');
  const shards = view.plans[0]?.plan.shards.length ?? 1;
  if (shards !== count) throw new Error(`expected a plan over ${count} nodes, got ${shards}`);
  await measure(head); // warm-up
}

async function main(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'tessera-bench-mesh-'));
  // BENCH_MESH_MODEL: a file written by an earlier run (the full-size one takes a while to make).
  const modelPath = join(scratch, 'bench.gguf'); // served as model `bench`
  if (process.env.BENCH_MESH_MODEL === undefined) {
    await writeRandomModel(modelPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: size === 'tiny', layers });
  } else {
    await symlink(process.env.BENCH_MESH_MODEL, modelPath);
  }
  const header = plannerModelFromHeader(await readGGUFHeader(modelPath), CONTEXT);
  const perLayer = header.bytesPerLayer + header.kvBytesPerTokenPerLayer * CONTEXT;
  const figures: Figures = {
    hiddenSize: header.hiddenSize,
    memoryLimit: (count, head) =>
      Math.ceil(((head ? header.headBytes : (header.embeddingBytes ?? 0)) + (count + 0.5) * perLayer + PLAN_HEADROOM_BYTES) / (1 - PLAN_HEADROOM_FRACTION)),
  };
  const hopFrame = encodeMeshMessage({
    type: 'tensor', planId: crypto.randomUUID(), sequenceId: 'default', position: 100, tokenCount: 1, hiddenSize: figures.hiddenSize,
    dtype: 'f16', layer: 1, chunk: 0, chunks: 1, step: 1000, data: new Uint8Array(figures.hiddenSize * 2),
  });
  const bytesPerTokenPerHop = sealedLength(hopFrame.byteLength);

  const nodes: RunningNode[] = [];
  const rows: Row[] = [];
  let ratios: number[];
  try {
    // Every cluster is up before any is timed; then each round times each cluster once, in a
    // rotating order, so load from elsewhere falls on all of them alike.
    const heads: RunningNode[] = [];
    for (const count of nodeCounts) {
      await startCluster(count, modelPath, figures, nodes);
      heads.push(nodes[nodes.length - count]!);
    }
    const samples: Awaited<ReturnType<typeof measure>>[][] = nodeCounts.map(() => []);
    for (let run = 0; run < runs; run++) {
      for (let turn = 0; turn < heads.length; turn++) {
        const index = (run + turn) % heads.length;
        samples[index]!.push(await measure(heads[index]!));
      }
    }
    const two = samples[nodeCounts.indexOf(2)];
    ratios = two === undefined ? [] : two.map((sample, run) => sample.tokensPerSecond / samples[0]![run]!.tokensPerSecond);
    nodeCounts.forEach((count, index) => {
      const ttft = median(samples[index]!.map((sample) => sample.ttft));
      const tokensPerSecond = median(samples[index]!.map((sample) => sample.tokensPerSecond));
      const hops = count > 1 ? count : 0;
      rows.push({
        nodes: count,
        hopsPerToken: hops,
        timeToFirstTokenMs: round(ttft),
        decodeTokensPerSecond: round(tokensPerSecond),
        msPerToken: round(1000 / tokensPerSecond),
        bytesPerTokenPerHop: hops === 0 ? 0 : bytesPerTokenPerHop,
        perHopOverheadMs: hops === 0 ? null : round((1000 / tokensPerSecond - rows[0]!.msPerToken) / hops),
      });
      console.log(rows[rows.length - 1]);
    });
  } finally {
    await Promise.allSettled(nodes.map((node) => node.stop()));
  }
  await rm(scratch, { recursive: true, force: true });

  mkdirSync(resultsDir, { recursive: true });
  const model = size === 'tiny' ? `qwen3-0.6b tiny widths, ${layers} layers, Q8_0` : `qwen3-0.6b shape, ${layers} layers, Q8_0`;
  const meta = {
    date: new Date().toISOString(), model, hiddenSize: figures.hiddenSize, threadsPerNode: threads, decodeTokens,
    runsPerFigure: `${runs} (median; clusters timed in interleaved rounds)`, hiddenStatesOnTheWire: 'f16', cores: cpus().length,
    loadAverageAtEnd: loadavg().map((value) => value.toFixed(2)).join(' '),
    twoNodesOverOne: ratios.length > 0 ? round(median(ratios)) : null,
    twoNodesOverOnePerRound: ratios.map(round).join(' '),
  };
  const name = size === 'tiny' ? 'mesh' : 'mesh-full';
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify({ ...meta, rows }, null, 2));
  const table = [
    '| nodes | hops/token | TTFT ms | decode tok/s | ms/token | bytes/token/hop | overhead ms/hop |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((row) => `| ${row.nodes} | ${row.hopsPerToken} | ${row.timeToFirstTokenMs} | ${row.decodeTokensPerSecond} | ${row.msPerToken} | ${row.bytesPerTokenPerHop} | ${row.perHopOverheadMs ?? '—'} |`),
  ];
  writeFileSync(join(resultsDir, `${name}.md`), `# Mesh on loopback\n\n${Object.entries(meta).map(([key, value]) => `- ${key}: ${value}`).join('\n')}\n\n${table.join('\n')}\n`);
  console.log(table.join('\n'));
  console.log(`2 nodes over 1: ${meta.twoNodesOverOne} (per round: ${meta.twoNodesOverOnePerRound})`);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

await main();
