// The planner: which nodes run which layers of a model. Pure and deterministic (no I/O, no
// clocks, no randomness): the same devices, links and model always give the same plan.
//
// The ring. The head node embeds each token, sends its hidden state to the first shard, each
// shard passes its output on, and the last shard is the head itself: it runs the final layers,
// the output norm and the output head, and samples. So the first shard holds the token
// embeddings (`embeddingBytes`), the head holds the output weights (`headBytes`; with tied
// embeddings that is the embedding table again, held once where one node is both); a ring of
// k > 1 nodes makes k hops per token, a single node none.
//
// Cost of a ring, per decoded token (decode is bound by streaming weights):
//   Σ_node layers × bytesPerLayer / weightBytesPerSecond      compute
//   + outputComputeBytes / head's weightBytesPerSecond       output head on the head node
//   + Σ_hop (rttMs / 2 / 1000 + hiddenSize × activationBytes / bandwidth)   transfers
//
// Memory: a node with L layers needs L × (bytesPerLayer + kvBytesPerTokenPerLayer × contextLength),
// plus headBytes on the head and embeddingBytes on the first shard, within its usable memory: free × (1 − headroomFraction) − headroomBytes.
// The headroom (10% + 256 MiB by default) is for activations, scratch buffers, the runtime and
// the OS's own swings in free memory, which the figures above do not count.
//
// Search: every subset of nodes (at most maxNodes, default 8), every choice of head and of first
// shard, every order of the others. For a fixed subset, head and first shard the best split is greedy (layer cost is linear:
// each node gets one layer, the rest go to the fastest nodes up to what fits). Ties go to fewer
// nodes, then to the lexicographically smaller list of node ids in ring order.
import { TesseraError } from '../../shared/errors.js';
import type { Plan, ShardAssignment } from '../../shared/mesh-protocol.js';

export interface PlannerDevice {
  id: string;
  /** Memory this node offers: its free memory, already capped by the user's memory limit. */
  freeMemoryBytes: number;
  /** Measured kernel throughput (MeshDeviceReport.kernelWeightBytesPerSecond); ≤ 0 leaves the node out. */
  weightBytesPerSecond: number;
}

/** A measured link; links are symmetric (either direction serves both). */
export interface PlannerLink {
  a: string;
  b: string;
  rttMs: number;
  bandwidthBytesPerSecond: number;
}

export interface PlannerModel {
  layerCount: number;
  /** Weight bytes of one transformer block (as loaded). */
  bytesPerLayer: number;
  /** Output norm + output head, held by the head node (with tied embeddings, the embedding table). */
  headBytes: number;
  /** Token embeddings, held by the first shard (which embeds the token ids); 0 when absent. */
  embeddingBytes?: number;
  /** The output head is the embedding table: a node that is both first and head holds it once. */
  tiedEmbeddings?: boolean;
  /** Output-head weight bytes streamed per token on the head (0 to ignore). */
  outputComputeBytes?: number;
  /** K and V for one token in one layer, bytes. */
  kvBytesPerTokenPerLayer: number;
  /** Context length the KV cache is sized for, tokens. */
  contextLength: number;
  hiddenSize: number;
  /** Bytes per value of hidden states on the wire: 4 for f32, 2 for f16. */
  activationBytes: number;
}

export interface PlannerOptions {
  headroomFraction?: number;
  headroomBytes?: number;
  maxNodes?: number;
  /** Only rings whose head (last shard, which samples) is this node: the node that serves the model. */
  headNodeId?: string;
}

export const PLAN_HEADROOM_FRACTION = 0.1;
export const PLAN_HEADROOM_BYTES = 256 * 1024 * 1024;
export const PLAN_MAX_NODES = 8;

/** Usable memory of a device after headroom. */
export function usableMemoryBytes(device: PlannerDevice, options: PlannerOptions = {}): number {
  const fraction = options.headroomFraction ?? PLAN_HEADROOM_FRACTION;
  const fixed = options.headroomBytes ?? PLAN_HEADROOM_BYTES;
  return Math.max(0, device.freeMemoryBytes * (1 - fraction) - fixed);
}

interface Candidate {
  device: PlannerDevice;
  usable: number;
  /** Seconds to run one layer for one token. */
  secondsPerLayer: number;
}

interface Best {
  seconds: number;
  compute: number;
  hops: number;
  ring: string[]; // ring order, head last
  layers: Map<string, number>;
}

/** Throws PLAN_NO_FIT when no ring of these devices can hold the model. */
export function plan(devices: PlannerDevice[], links: PlannerLink[], model: PlannerModel, options: PlannerOptions = {}): Plan {
  validateModel(model);
  const perLayerBytes = model.bytesPerLayer + model.kvBytesPerTokenPerLayer * model.contextLength;
  const maxNodes = options.maxNodes ?? PLAN_MAX_NODES;
  const candidates = [...devices]
    .filter((device) => device.weightBytesPerSecond > 0 && Number.isFinite(device.weightBytesPerSecond))
    .map((device) => ({ device, usable: usableMemoryBytes(device, options), secondsPerLayer: model.bytesPerLayer / device.weightBytesPerSecond }))
    .sort((a, b) => Number(b.device.id === options.headNodeId) - Number(a.device.id === options.headNodeId) || b.usable - a.usable || compareIds(a.device.id, b.device.id))
    .slice(0, maxNodes)
    .sort((a, b) => compareIds(a.device.id, b.device.id));

  const hopSeconds = hopCostTable(links, model);
  let best: Best | undefined;
  const count = candidates.length;
  for (let mask = 1; mask < 1 << count; mask++) {
    const members = candidates.filter((_, index) => mask & (1 << index));
    for (const head of members) {
      if (options.headNodeId !== undefined && head.device.id !== options.headNodeId) continue;
      const others = members.filter((member) => member !== head);
      for (const first of others.length === 0 ? [head] : others) {
        const layers = splitLayers(members, head, first, model, perLayerBytes);
        if (!layers) continue;
        let compute = (model.outputComputeBytes ?? 0) / head.device.weightBytesPerSecond;
        for (const member of members) compute += layers.get(member.device.id)! * member.secondsPerLayer;
        const middle = others.filter((member) => member !== first).map((member) => member.device.id);
        for (const order of permutations(middle)) {
          const ring = first === head ? [head.device.id] : [first.device.id, ...order, head.device.id];
          const hops = ringHopSeconds(ring, hopSeconds);
          if (!Number.isFinite(hops)) continue;
          const candidate: Best = { seconds: compute + hops, compute, hops, ring, layers };
          if (!best || isBetter(candidate, best)) best = candidate;
        }
      }
    }
  }

  if (!best) throw noFit(devices, model, perLayerBytes, options);
  const shards: ShardAssignment[] = [];
  let layerStart = 0;
  for (const nodeId of best.ring) {
    const layerEnd = layerStart + best.layers.get(nodeId)!;
    shards.push({ nodeId, layerStart, layerEnd });
    layerStart = layerEnd;
  }
  const used = new Set(best.ring);
  return {
    headNodeId: best.ring[best.ring.length - 1]!,
    shards,
    predictedTokenSeconds: best.seconds,
    predictedComputeSeconds: best.compute,
    predictedHopSeconds: best.hops,
    excludedNodeIds: devices.map((device) => device.id).filter((id) => !used.has(id)).sort(compareIds),
  };
}

/** Bytes a node holds besides its layers: embeddings on the first shard, output weights on the head. */
export function fixedBytes(model: PlannerModel, isFirst: boolean, isHead: boolean): number {
  const embedding = model.embeddingBytes ?? 0;
  if (isFirst && isHead) return model.headBytes + (model.tiedEmbeddings ? 0 : embedding);
  return (isHead ? model.headBytes : 0) + (isFirst ? embedding : 0);
}

/** Layers per node for this subset, head and first shard, or undefined when they cannot hold the model. */
function splitLayers(members: Candidate[], head: Candidate, first: Candidate, model: PlannerModel, perLayerBytes: number): Map<string, number> | undefined {
  const capacity = new Map<string, number>();
  let total = 0;
  for (const member of members) {
    const usable = member.usable - fixedBytes(model, member === first, member === head);
    const fits = perLayerBytes > 0 ? Math.floor(usable / perLayerBytes) : model.layerCount;
    if (fits < 1) return undefined; // every ring member runs at least one layer
    capacity.set(member.device.id, Math.min(fits, model.layerCount));
    total += Math.min(fits, model.layerCount);
  }
  if (total < model.layerCount || members.length > model.layerCount) return undefined;
  const layers = new Map(members.map((member) => [member.device.id, 1]));
  let remaining = model.layerCount - members.length;
  const fastestFirst = [...members].sort((a, b) => a.secondsPerLayer - b.secondsPerLayer || compareIds(a.device.id, b.device.id));
  for (const member of fastestFirst) {
    const id = member.device.id;
    const extra = Math.min(remaining, capacity.get(id)! - 1);
    layers.set(id, 1 + extra);
    remaining -= extra;
  }
  return remaining === 0 ? layers : undefined;
}

function hopCostTable(links: PlannerLink[], model: PlannerModel): Map<string, number> {
  const table = new Map<string, number>();
  const transferBytes = model.hiddenSize * model.activationBytes;
  for (const link of links) {
    if (!(link.bandwidthBytesPerSecond > 0)) continue;
    const seconds = link.rttMs / 2 / 1000 + transferBytes / link.bandwidthBytesPerSecond;
    // Two measurements of one link (one from each end): plan with the worse one.
    for (const key of [pairKey(link.a, link.b), pairKey(link.b, link.a)]) table.set(key, Math.max(table.get(key) ?? 0, seconds));
  }
  return table;
}

function ringHopSeconds(ring: string[], table: Map<string, number>): number {
  if (ring.length < 2) return 0;
  let seconds = 0;
  for (let index = 0; index < ring.length; index++) {
    const cost = table.get(pairKey(ring[index]!, ring[(index + 1) % ring.length]!));
    if (cost === undefined) return Infinity; // no measured link: these two cannot be neighbours
    seconds += cost;
  }
  return seconds;
}

function isBetter(candidate: Best, best: Best): boolean {
  const tolerance = 1e-9 * Math.max(1e-9, Math.abs(best.seconds));
  if (candidate.seconds < best.seconds - tolerance) return true;
  if (candidate.seconds > best.seconds + tolerance) return false;
  if (candidate.ring.length !== best.ring.length) return candidate.ring.length < best.ring.length;
  for (let index = 0; index < candidate.ring.length; index++) {
    const order = compareIds(candidate.ring[index]!, best.ring[index]!);
    if (order !== 0) return order < 0;
  }
  return false;
}

function* permutations(items: string[]): Generator<string[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let index = 0; index < items.length; index++) {
    const rest = [...items.slice(0, index), ...items.slice(index + 1)];
    for (const tail of permutations(rest)) yield [items[index]!, ...tail];
  }
}

function pairKey(a: string, b: string): string {
  return `${a}\u0000${b}`;
}

/** Plain code-unit order: the same on every machine, unlike localeCompare. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function validateModel(model: PlannerModel): void {
  const fields = ['layerCount', 'bytesPerLayer', 'headBytes', 'kvBytesPerTokenPerLayer', 'contextLength', 'hiddenSize', 'activationBytes'] as const;
  for (const field of [...fields, ...(model.embeddingBytes === undefined ? [] : (['embeddingBytes'] as const))]) {
    const value = model[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TesseraError('PLAN_NO_FIT', `model field ${field} must be a non-negative number`);
    }
  }
  if (!Number.isInteger(model.layerCount) || model.layerCount < 1) throw new TesseraError('PLAN_NO_FIT', 'a model needs at least one layer');
}

function noFit(devices: PlannerDevice[], model: PlannerModel, perLayerBytes: number, options: PlannerOptions): TesseraError {
  const needed = model.layerCount * perLayerBytes + fixedBytes(model, true, true);
  const offered = devices.reduce((sum, device) => sum + usableMemoryBytes(device, options), 0);
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  return new TesseraError(
    'PLAN_NO_FIT',
    `the model needs ${gib(needed)} (weights + KV cache for ${model.contextLength} tokens); the ${devices.length} node(s) offer ${gib(offered)} usable after headroom`,
  );
}
