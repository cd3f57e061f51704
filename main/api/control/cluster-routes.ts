// /api/cluster: the cluster view (nodes, links, plans), plan previews for a model file, manual
// peers, the memory this node offers, and the join secret. The same view streams as `cluster` events.
import {
  CONTROL_CLUSTER_PATH,
  CONTROL_CLUSTER_PEERS_PATH,
  CONTROL_CLUSTER_PLAN_PREVIEW_PATH,
  CONTROL_CLUSTER_SECRET_PATH,
  clusterPeerSchema,
  clusterUpdateSchema,
  planPreviewRequestSchema,
  type ClusterPlan,
  type ClusterView,
} from '../../../shared/control.js';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { ControlRoutes } from '../control-router.js';
import { MAX_CONTROL_REQUEST_BODY_BYTES } from '../limits.js';
import { sendJson } from '../respond.js';

export interface ClusterRoutesBackend {
  view(): ClusterView;
  planPreview(path: string, contextLength?: number): Promise<ClusterPlan>;
  addPeer(address: string): void;
  removePeer(address: string): void;
  setMemoryLimit(bytes: number | null): ClusterView;
  joinSecret(): string;
}

async function body<T>(request: Parameters<NonNullable<ControlRoutes[string]['GET']>>[0], schema: { safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }): Promise<T> {
  const parsed = schema.safeParse(await readJsonBody(request, MAX_CONTROL_REQUEST_BODY_BYTES));
  if (!parsed.success) throw new TesseraError('REQUEST_INVALID', `invalid body: ${parsed.error.issues[0]?.message ?? 'bad body'}`);
  return parsed.data;
}

export function clusterRoutes(backend: ClusterRoutesBackend): ControlRoutes {
  return {
    [CONTROL_CLUSTER_PATH]: {
      GET: (_request, response) => sendJson(response, 200, backend.view()),
      PATCH: async (request, response) => {
        const update = await body(request, clusterUpdateSchema);
        sendJson(response, 200, backend.setMemoryLimit(update.memoryLimitBytes));
      },
    },
    [CONTROL_CLUSTER_PLAN_PREVIEW_PATH]: {
      GET: async (_request, response, url) => {
        const path = url.searchParams.get('path');
        if (!path) throw new TesseraError('REQUEST_INVALID', 'plan-preview needs ?path=<model.gguf>');
        const context = url.searchParams.get('contextLength');
        sendJson(response, 200, await backend.planPreview(path, context === null ? undefined : Number(context)));
      },
      POST: async (request, response) => {
        const preview = await body(request, planPreviewRequestSchema);
        sendJson(response, 200, await backend.planPreview(preview.path, preview.contextLength));
      },
    },
    [CONTROL_CLUSTER_PEERS_PATH]: {
      POST: async (request, response) => {
        backend.addPeer((await body(request, clusterPeerSchema)).address);
        sendJson(response, 200, backend.view());
      },
      DELETE: async (request, response) => {
        backend.removePeer((await body(request, clusterPeerSchema)).address);
        sendJson(response, 200, backend.view());
      },
    },
    [CONTROL_CLUSTER_SECRET_PATH]: {
      GET: (_request, response) => sendJson(response, 200, { joinSecret: backend.joinSecret() }),
    },
  };
}
