// Two real clusters on loopback (real mesh, Noise, engines) split a tiny model: the head's cluster
// view shows the peer's shard load per device as it goes, and after a generation the peer's own
// tokens/s, which only reaches the head through the peer's device report over the mesh.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import type { ClusterView, ControlEvent } from '../../shared/control.js';
import { readGGUFHeader } from '../engine/gguf/reader.js';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { plannerModelFromHeader } from '../mesh/model-figures.js';
import { PLAN_HEADROOM_BYTES, PLAN_HEADROOM_FRACTION } from '../mesh/planner.js';
import { Cluster } from './cluster.js';
import { TokenRateMeter } from './rate-meter.js';
import { ServedModels } from './served-models.js';

const CONTEXT = 256;
const SECRET = 'tessera-live-figures-secret';

let root: string;
let modelPath: string;
let head: Cluster;
let peer: Cluster;
let models: ServedModels;
const headEvents: ClusterView[] = [];
const peerEvents: ClusterView[] = [];

/** The --memory-limit that lets the planner give a node `layers` layers (as e2e/mesh.test.ts). */
function limitFor(figures: ReturnType<typeof plannerModelFromHeader>, layers: number, isHead: boolean): number {
  const perLayer = figures.bytesPerLayer + figures.kvBytesPerTokenPerLayer * figures.contextLength;
  const bytes = (isHead ? figures.headBytes : (figures.embeddingBytes ?? 0)) + (layers + 0.5) * perLayer;
  return Math.ceil((bytes + PLAN_HEADROOM_BYTES) / (1 - PLAN_HEADROOM_FRACTION));
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function startCluster(name: string, memoryLimitBytes: number, extra: { peers?: string[]; publish?: (event: ControlEvent) => void; rateMeter?: TokenRateMeter }) {
  return Cluster.start({
    dataDir: await mkdtemp(join(root, `${name}-`)),
    name,
    host: '127.0.0.1',
    port: 0,
    joinSecret: SECRET,
    discovery: false,
    threads: 1,
    contextLength: CONTEXT,
    memoryLimitBytes,
    publish: extra.publish ?? (() => {}),
    ...(extra.peers ? { peers: extra.peers } : {}),
    ...(extra.rateMeter ? { rateMeter: extra.rateMeter } : {}),
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-live-figures-'));
  modelPath = join(root, 'tiny.gguf');
  await writeRandomModel(modelPath, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 4, seed: 5 });
  const figures = plannerModelFromHeader(await readGGUFHeader(modelPath), CONTEXT);
  peer = await startCluster('peer', limitFor(figures, 2, false), {
    publish: (event) => {
      if (event.type === 'cluster') peerEvents.push(event.cluster);
    },
  });
  const headMeter = new TokenRateMeter();
  head = await startCluster('head', limitFor(figures, 2, true), {
    peers: [`127.0.0.1:${peer.mesh.port}`],
    rateMeter: headMeter,
    publish: (event) => {
      if (event.type === 'cluster') headEvents.push(event.cluster);
    },
  });
  models = new ServedModels({ threads: 1, contextLength: CONTEXT }, { onToken: () => headMeter.record() });
  head.attach(models);
  await head.waitForPeers(1, 10_000);
});

after(async () => {
  await models?.closeAll();
  await Promise.allSettled([head?.stop(), peer?.stop()]);
  await rm(root, { recursive: true, force: true });
});

it('the head sees each device load its shard, then every node’s live tokens/s', { timeout: 60_000 }, async () => {
  const eventsBefore = headEvents.length;
  await models.load(modelPath);
  const view = head.view();
  assert.equal(view.plans.length, 1, 'the model is split over both nodes');
  assert.deepEqual(view.loads, [], 'no load in progress once loaded');

  // The load went out live, per device: both nodes loading, then each one ready at 100%.
  const during = headEvents.slice(eventsBefore).flatMap((cluster) => cluster.loads ?? []).filter((load) => load.modelId === 'tiny');
  const peerStates = during.flatMap((load) => load.devices.filter((device) => device.nodeId === peer.mesh.nodeId));
  const headStates = during.flatMap((load) => load.devices.filter((device) => device.nodeId === head.mesh.nodeId));
  assert.ok(peerStates.some((device) => device.state === 'loading' && device.fraction < 1), 'the peer was seen loading');
  assert.ok(peerStates.some((device) => device.state === 'ready' && device.fraction === 1), 'the peer reported ready over the mesh');
  assert.ok(headStates.some((device) => device.state === 'loading'), 'the head’s own shard was seen loading');
  for (const device of [...peerStates, ...headStates]) assert.ok(device.fraction >= 0 && device.fraction <= 1);
  // The engines' byte counts: the peer's crossed the mesh in shard-status messages.
  for (const [who, states] of [['peer', peerStates], ['head', headStates]] as const) {
    const counted = states.filter((device) => device.totalBytes !== null && device.totalBytes > 0);
    assert.ok(counted.length > 0, `the ${who}'s weight bytes were reported`);
    assert.ok(counted.some((device) => device.loadedBytes === device.totalBytes), `the ${who} reported all its bytes read`);
    for (const device of counted) assert.ok(device.loadedBytes! <= device.totalBytes!);
  }

  // The peer's own UI showed the shard it loaded for the head, and nothing once it was ready.
  const peerOwn = peerEvents.flatMap((cluster) => cluster.loads ?? []).filter((load) => load.modelId === 'tiny').flatMap((load) => load.devices);
  assert.ok(peerOwn.length > 0 && peerOwn.every((device) => device.nodeId === peer.mesh.nodeId), 'the peer shows its own shard load');
  assert.ok(peerOwn.some((device) => device.state === 'loading' && (device.totalBytes ?? 0) > 0));
  await waitFor('the peer’s board to clear', () => (peer.view().loads?.length === 0 ? true : undefined));

  // Idle: nobody generates.
  assert.equal(head.view().nodes.find((node) => node.self)?.tokensPerSecond, 0);

  let tokens = 0;
  for await (const event of models.get('tiny')!.engine.generate({ prompt: 'hello there', maxTokens: 24, sampling: { temperature: 0 } })) {
    if (event.type === 'token') tokens++;
  }
  assert.ok(tokens > 0);
  const selfRate = head.view().nodes.find((node) => node.self)?.tokensPerSecond ?? 0;
  assert.ok(selfRate > 0, `the head counts what it sampled (${selfRate})`);
  // The peer ran a ring step per token; its rate reaches the head with its next device report.
  const peerRate = await waitFor('the peer’s rate at the head', () => {
    const rate = head.view().nodes.find((node) => node.nodeId === peer.mesh.nodeId)?.tokensPerSecond;
    return rate !== undefined && rate !== null && rate > 0 ? rate : undefined;
  });
  assert.ok(peerRate > 0);
  assert.ok(headEvents.some((cluster) => (cluster.nodes.find((node) => node.nodeId === peer.mesh.nodeId)?.tokensPerSecond ?? 0) > 0), 'a cluster event carried it to the UI');
});
