// The mesh end to end: real `tessera serve` processes on loopback (own ports and data dirs) form
// a cluster, serve a tiny random Qwen3-shaped model over 1, 2 and 3 nodes with greedy output equal
// to one node's, through the OpenAI API of a node that is not the head; a kill -9 mid-stream ends
// the request cleanly and the next one runs on the nodes left; a wrong join secret is refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterView } from '../shared/control.js';
import { readGGUFHeader } from '../main/engine/gguf/reader.js';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { plannerModelFromHeader } from '../main/mesh/model-figures.js';
import { freePort, startTessera, type RunningNode } from './support/tessera-process.js';
import { controlApi, memoryLimitFor, waitFor } from './support/node-api.js';

const CONTEXT = 2048;
const PROMPT = [{ role: 'user', content: 'Name three colours.' }];

let scratch: string;
let modelPath: string;
let figures: ReturnType<typeof plannerModelFromHeader>;
const nodes: Record<'a' | 'b' | 'c', RunningNode & { meshPort: number }> = {} as never;
const extra: RunningNode[] = [];




async function startNode(args: string[]): Promise<RunningNode & { meshPort: number }> {
  const meshPort = await freePort();
  const node = await startTessera({ args: ['--mesh-port', String(meshPort), '--no-discovery', '--threads', '1', '--ctx-size', String(CONTEXT), ...args] });
  return Object.assign(node, { meshPort });
}

/** Waits until `node` sees every other node with a device report and measured links to it. */
async function waitForCluster(node: RunningNode, size: number): Promise<ClusterView> {
  return waitFor(`a cluster of ${size}`, async () => {
    const view = await controlApi<ClusterView>(node, 'GET', '/api/cluster');
    // Every pair measured: the planner rings only over measured links (peers report theirs every 5 s).
    const pairs = new Set(view.links.filter((link) => link.bandwidthBytesPerSecond !== null).map((link) => [link.from, link.to].sort().join('|')));
    return view.nodes.length === size && view.nodes.every((entry) => entry.device !== null) && pairs.size === (size * (size - 1)) / 2 ? view : undefined;
  });
}

async function setLimit(node: RunningNode, bytes: number, observer: RunningNode): Promise<void> {
  const view = await controlApi<ClusterView>(node, 'PATCH', '/api/cluster', { memoryLimitBytes: bytes });
  await waitFor('the new memory limit to reach the head', async () => {
    const seen = await controlApi<ClusterView>(observer, 'GET', '/api/cluster');
    const entry = seen.nodes.find((candidate) => candidate.nodeId === view.selfId);
    return entry?.device && entry.device.offeredMemoryBytes <= bytes ? true : undefined;
  });
}

async function chat(node: RunningNode, maxTokens = 24): Promise<string> {
  const response = await fetch(`${node.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', messages: PROMPT, temperature: 0, max_tokens: maxTokens }),
  });
  const body = (await response.json()) as { choices?: { message: { content: string } }[]; error?: unknown };
  assert.equal(response.status, 200, JSON.stringify(body));
  return body.choices![0]!.message.content;
}

async function load(head: RunningNode): Promise<ClusterView> {
  await controlApi(head, 'POST', '/api/models/load', { path: modelPath });
  return controlApi<ClusterView>(head, 'GET', '/api/cluster');
}

async function unload(head: RunningNode, others: RunningNode[]): Promise<void> {
  await controlApi(head, 'POST', '/api/models/unload', { id: 'tiny' });
  // Peers drop the forwarded model within a refresh.
  for (const node of others) {
    await waitFor('the model to be withdrawn', async () => ((await controlApi<ClusterView>(node, 'GET', '/api/cluster')).remoteModels.length === 0 ? true : undefined));
  }
}

describe('mesh: pipeline-parallel serving over real nodes', { timeout: 150_000 }, () => {
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tessera-mesh-'));
    modelPath = join(scratch, 'tiny.gguf');
    await writeRandomModel(modelPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 4 });
    figures = plannerModelFromHeader(await readGGUFHeader(modelPath), CONTEXT);
    nodes.a = await startNode([]);
    const secret = /Join secret:\s+(\S+)/.exec(nodes.a.output().stdout)?.[1];
    assert.ok(secret, 'a new node prints its join secret');
    const peerA = `127.0.0.1:${nodes.a.meshPort}`;
    // B and C offer nothing at first: the model runs on A alone.
    nodes.b = await startNode(['--join', secret, '--peer', peerA, '--memory-limit', '0']);
    nodes.c = await startNode(['--join', secret, '--peer', peerA, '--peer', `127.0.0.1:${nodes.b.meshPort}`, '--memory-limit', '0']);
    await Promise.all([waitForCluster(nodes.a, 3), waitForCluster(nodes.b, 3), waitForCluster(nodes.c, 3)]);
  });

  after(async () => {
    await Promise.allSettled([...Object.values(nodes), ...extra].map((node) => node.stop()));
    await rm(scratch, { recursive: true, force: true });
  });

  let reference: string;

  it('serves a model on one node, reachable through another node', async () => {
    const view = await load(nodes.a);
    assert.equal(view.plans.length, 0, 'one node holds it all: no pipeline');
    await waitFor('B to learn of the model', async () => ((await controlApi<ClusterView>(nodes.b, 'GET', '/api/cluster')).remoteModels.length === 1 ? true : undefined));
    reference = await chat(nodes.a);
    assert.ok(reference.length > 0);
    assert.equal(await chat(nodes.b), reference);
    await unload(nodes.a, [nodes.b, nodes.c]);
  });

  it('refuses a node with the wrong join secret and keeps serving', async () => {
    const intruder = await startNode(['--join', 'not-the-secret-of-this-cluster', '--peer', `127.0.0.1:${nodes.a.meshPort}`]);
    extra.push(intruder);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const view = await controlApi<ClusterView>(nodes.a, 'GET', '/api/cluster');
    assert.equal(view.nodes.length, 3, 'the intruder is not part of the cluster');
    const own = await controlApi<ClusterView>(intruder, 'GET', '/api/cluster');
    assert.equal(own.nodes.length, 1);
    await intruder.stop();
  });

  it('splits the model over 2 nodes with output equal to one node', async () => {
    await setLimit(nodes.a, memoryLimitFor(figures, 2, true), nodes.a);
    await setLimit(nodes.b, memoryLimitFor(figures, 2, false), nodes.a);
    const view = await load(nodes.a);
    assert.equal(view.plans.length, 1);
    const plan = view.plans[0]!.plan;
    assert.deepEqual(plan.shards.map((shard) => shard.layerEnd - shard.layerStart), [2, 2]);
    assert.equal(plan.headNodeId, view.selfId);
    await waitFor('C to learn of the model', async () => ((await controlApi<ClusterView>(nodes.c, 'GET', '/api/cluster')).remoteModels.length === 1 ? true : undefined));
    assert.equal(await chat(nodes.c), reference, 'through C, which runs no shard');
    assert.equal(await chat(nodes.b), reference, 'through B, a shard but not the head');
    await unload(nodes.a, [nodes.b, nodes.c]);
  });

  it('splits it over 3 nodes; kill -9 of the middle node mid-stream ends cleanly and the next request re-plans', async () => {
    await setLimit(nodes.a, memoryLimitFor(figures, 1, true), nodes.a);
    await setLimit(nodes.b, memoryLimitFor(figures, 2, false), nodes.a);
    await setLimit(nodes.c, memoryLimitFor(figures, 1, false), nodes.a);
    const view = await load(nodes.a);
    const plan = view.plans[0]!.plan;
    assert.equal(plan.shards.length, 3);
    await waitFor('C to learn of the model', async () => ((await controlApi<ClusterView>(nodes.c, 'GET', '/api/cluster')).remoteModels.length === 1 ? true : undefined));
    assert.equal(await chat(nodes.c), reference);

    // C may now hold more, so the nodes left after B goes can hold the model (the loaded plan stays).
    await setLimit(nodes.c, memoryLimitFor(figures, 3, false), nodes.a);
    const middle = plan.shards[0]!.nodeId === (await controlApi<ClusterView>(nodes.b, 'GET', '/api/cluster')).selfId ? nodes.b : nodes.c;
    const survivor = middle === nodes.b ? nodes.c : nodes.b;
    if (middle === nodes.c) await setLimit(nodes.b, memoryLimitFor(figures, 3, false), nodes.a);

    const response = await fetch(`${survivor.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', messages: PROMPT, temperature: 0, max_tokens: 1800, stream: true }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"content"')) {
      const { value, done } = await reader.read();
      assert.ok(!done, `stream ended before any token: ${text}`);
      text += decoder.decode(value);
    }
    const killedAt = Date.now();
    execFileSync('kill', ['-9', String(middle.process.pid)]);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    const elapsed = Date.now() - killedAt;
    assert.ok(elapsed < 10_000, `the stream ended ${elapsed} ms after the kill`);
    assert.match(text, /"error"/, 'the stream carries an error event');
    assert.match(text, /left the cluster|PEER_UNREACHABLE|unreachable|connection lost/i);

    assert.equal(await chat(survivor), reference, 'the next request runs on the nodes left');
    const after = await controlApi<ClusterView>(nodes.a, 'GET', '/api/cluster');
    assert.equal(after.plans[0]!.plan.shards.length, 2);
  });
});

// Discovery across network namespaces (one node per namespace, no --peer): e2e/mesh-netns.test.ts.
