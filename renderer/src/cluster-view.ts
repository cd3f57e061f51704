// What the Devices and Shards pages draw, made from the mesh's cluster view (GET /api/cluster and
// `cluster` events, shapes in shared/control.ts): nodes with their figures and role in the plans,
// links, manual peers. A node without the mesh (404) gives this node alone, `meshAvailable: false`.
import {
  CONTROL_CLUSTER_PATH,
  CONTROL_CLUSTER_SECRET_PATH,
  clusterViewSchema,
  type ClusterView as ClusterState,
  type DeviceInfo,
  type NodeInfo,
} from '../../shared/control.js';
import { ControlApiError, type ControlClient } from './control-client.js';

export interface ClusterNodeView {
  id: string;
  name: string;
  self: boolean;
  device: DeviceInfo | null;
  offeredMemoryBytes: number | null;
  /** "head", "shard", "idle" in the current plans; "this node"/"peer" without a plan. */
  role: string;
  /** The layer range this node holds for the model shown, when it holds one. */
  layers: { start: number; end: number } | null;
  /** Tokens/s over the last few seconds (0 idle); null when the node does not report it. */
  tokensPerSecond: number | null;
}

export interface ClusterLinkView {
  from: string;
  to: string;
  rttMs: number | null;
  bandwidthBytesPerSecond: number | null;
}

export interface ClusterView {
  meshAvailable: boolean;
  meshPort: number | null;
  nodes: ClusterNodeView[];
  links: ClusterLinkView[];
  manualPeers: string[];
}

export function selfOnlyView(node: NodeInfo): ClusterView {
  return {
    meshAvailable: false,
    meshPort: null,
    nodes: [{ id: node.id, name: node.name, self: true, device: node.device, offeredMemoryBytes: null, role: 'this node', layers: null, tokensPerSecond: null }],
    links: [],
    manualPeers: [],
  };
}

/** The view for the pages; `modelId` picks whose plan gives roles and layer ranges. This node's live figures win for itself. */
export function clusterViewFrom(state: ClusterState, node: NodeInfo, modelId?: string): ClusterView {
  const planned = state.plans.find((entry) => modelId === undefined || entry.modelId === modelId)?.plan;
  const nodes = state.nodes.map((entry): ClusterNodeView => {
    const shard = planned?.shards.find((candidate) => candidate.nodeId === entry.nodeId);
    const ownShard = entry.self ? state.shards.find((candidate) => modelId === undefined || candidate.modelId === modelId) : undefined;
    const range = shard ? { start: shard.layerStart, end: shard.layerEnd } : ownShard ? { start: ownShard.layerStart, end: ownShard.layerEnd } : null;
    const role = planned
      ? entry.nodeId === planned.headNodeId
        ? 'head'
        : shard
          ? 'shard'
          : 'idle'
      : ownShard
        ? 'shard'
        : entry.self
          ? 'this node'
          : 'peer';
    return {
      id: entry.nodeId,
      name: entry.self ? node.name : entry.name,
      self: entry.self,
      device: entry.self ? node.device : (entry.device?.device ?? null),
      offeredMemoryBytes: entry.device?.offeredMemoryBytes ?? null,
      role,
      layers: range,
      tokensPerSecond: entry.tokensPerSecond ?? null,
    };
  });
  return { meshAvailable: true, meshPort: state.meshPort, nodes, links: dedupeLinks(state.links), manualPeers: state.manualPeers };
}

/** One line per pair of nodes: both ends report a link; keep the figures either has. */
function dedupeLinks(links: ClusterState['links']): ClusterLinkView[] {
  const byPair = new Map<string, ClusterLinkView>();
  for (const link of links) {
    const key = [link.from, link.to].sort().join('|');
    const known = byPair.get(key);
    byPair.set(key, {
      from: known?.from ?? link.from,
      to: known?.to ?? link.to,
      rttMs: known?.rttMs ?? link.rttMs,
      bandwidthBytesPerSecond: known?.bandwidthBytesPerSecond ?? link.bandwidthBytesPerSecond,
    });
  }
  return [...byPair.values()];
}

/** GET /api/cluster, validated; undefined on a node without the mesh routes (404). */
export async function fetchClusterState(client: ControlClient): Promise<ClusterState | undefined> {
  try {
    return clusterViewSchema.parse(await client.call('GET', CONTROL_CLUSTER_PATH));
  } catch (error) {
    if (error instanceof ControlApiError && error.status === 404) return undefined;
    throw error;
  }
}

export async function fetchJoinSecret(client: ControlClient): Promise<string | null> {
  const body = (await client.call('GET', CONTROL_CLUSTER_SECRET_PATH)) as { joinSecret?: unknown };
  return typeof body.joinSecret === 'string' ? body.joinSecret : null;
}
