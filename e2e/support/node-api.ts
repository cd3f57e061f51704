// The control API of a running node, and polling, as the cluster e2e tests use them.
import type { plannerModelFromHeader } from '../../main/mesh/model-figures.js';
import { PLAN_HEADROOM_BYTES, PLAN_HEADROOM_FRACTION } from '../../main/mesh/planner.js';
import type { RunningNode } from './tessera-process.js';

/** A control API call with the node's token; throws with the status and body unless 2xx. */
export async function controlApi<T>(node: RunningNode, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${node.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Polls `probe` every 200 ms until it gives a value (a throw counts as not yet). */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The --memory-limit that lets the planner give a node `layers` layers, plus the head's tensors
 * on the head, or the token embeddings on another node (any of them may be the first shard).
 */
export function memoryLimitFor(figures: ReturnType<typeof plannerModelFromHeader>, layers: number, isHead: boolean): number {
  const perLayer = figures.bytesPerLayer + figures.kvBytesPerTokenPerLayer * figures.contextLength;
  const bytes = (isHead ? figures.headBytes : (figures.embeddingBytes ?? 0)) + (layers + 0.5) * perLayer;
  return Math.ceil((bytes + PLAN_HEADROOM_BYTES) / (1 - PLAN_HEADROOM_FRACTION));
}
