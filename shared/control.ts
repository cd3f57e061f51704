// The control API between a node and its UI (the Electron window or any browser): the shapes it
// returns, the events it streams over its WebSocket, and the paths both sides agree on.
// Events are a discriminated union on `type`; `decodeControlEvent` is the one place that validates
// what arrives from the socket.
import { z } from 'zod';

/** Default port of a node's local HTTP server (UI, control API under /api, OpenAI API under /v1). */
export const DEFAULT_HTTP_PORT = 7340;

export const CONTROL_API_PREFIX = '/api';
export const CONTROL_NODE_PATH = '/api/node';
export const CONTROL_EVENTS_PATH = '/api/events';
/** Prefix reserved for the OpenAI-compatible API. */
export const OPENAI_API_PREFIX = '/v1';

/** Query parameter carrying the node token in the UI URL and on the events socket. */
export const TOKEN_QUERY_PARAMETER = 'token';
/** HTTP requests to /api carry the token as `Authorization: Bearer <token>`. */
export const TOKEN_AUTH_SCHEME = 'Bearer';

/** Longest node name accepted (characters). */
export const MAX_NODE_NAME_LENGTH = 64;

export const deviceInfoSchema = z.object({
  /** Host name of the machine. */
  hostname: z.string(),
  os: z.object({
    /** `linux`, `darwin`, `win32`, ... */
    platform: z.string(),
    /** Human-readable OS name and version, e.g. "Linux 6.1.0-18-amd64". */
    description: z.string(),
    arch: z.string(),
  }),
  cpu: z.object({
    model: z.string(),
    /** Logical cores. */
    cores: z.number().int().nonnegative(),
  }),
  memory: z.object({
    totalBytes: z.number().nonnegative(),
    freeBytes: z.number().nonnegative(),
  }),
  /** Milliseconds since the epoch when these figures were read. */
  sampledAt: z.number(),
});
export type DeviceInfo = z.infer<typeof deviceInfoSchema>;

export const nodeInfoSchema = z.object({
  /** Stable id, persisted in the node's data directory. */
  id: z.string(),
  /** User-facing name, persisted; defaults to the host name. */
  name: z.string(),
  /** Tessera version the node runs. */
  version: z.string(),
  /** Milliseconds since the epoch when the node started. */
  startedAt: z.number(),
  device: deviceInfoSchema,
});
export type NodeInfo = z.infer<typeof nodeInfoSchema>;

/** Body of `PATCH /api/node`. */
export const nodeUpdateSchema = z.object({
  name: z.string().trim().min(1).max(MAX_NODE_NAME_LENGTH),
});
export type NodeUpdate = z.infer<typeof nodeUpdateSchema>;

// ---- Models, the OpenAI server and its request log (Models and Server pages) ----

export const CONTROL_MODELS_PATH = '/api/models';
export const CONTROL_SERVER_PATH = '/api/server';
export const CONTROL_REQUESTS_PATH = '/api/requests';

/** A GGUF file in `<dataDir>/models`, described from its header. */
export const localModelSchema = z.object({
  /** File name inside the models folder (what DELETE /api/models/<file> takes). */
  file: z.string(),
  path: z.string(),
  sizeBytes: z.number().nonnegative(),
  /** Model id once loaded: the file name without `.gguf`. */
  id: z.string(),
  /** `general.name`, when present. */
  name: z.string().nullable(),
  architecture: z.string().nullable(),
  /** Weight format, e.g. "Q8_0", "Q4_K_M" (from `general.file_type`, else the commonest tensor type). */
  quant: z.string().nullable(),
  layers: z.number().int().nullable(),
  contextLength: z.number().int().nullable(),
  parameters: z.number().nullable(),
  /** K and V bytes per token per layer as the engine keeps them (f32), for memory estimates. */
  kvBytesPerTokenPerLayer: z.number().nullable(),
  /** Why the header could not be read, when it could not. */
  error: z.string().nullable(),
});
export type LocalModel = z.infer<typeof localModelSchema>;

/** A model this node serves now. */
export const loadedModelSchema = z.object({
  id: z.string(),
  path: z.string(),
  architecture: z.string(),
  /** [start, end) of the layers this node runs. */
  layers: z.tuple([z.number().int(), z.number().int()]),
  nLayers: z.number().int(),
  contextLength: z.number().int(),
  dim: z.number().int(),
  backend: z.string(),
  threads: z.number().int(),
  /** Weight bytes of the tensors this node holds. */
  weightBytes: z.number().nonnegative(),
  /** KV cache bytes at full context for one conversation (f32 keys and values). */
  kvBytes: z.number().nonnegative(),
  loadedAt: z.number(),
});
export type LoadedModel = z.infer<typeof loadedModelSchema>;

/** Response of `GET /api/models`. */
export const modelsStateSchema = z.object({
  modelsDir: z.string(),
  local: z.array(localModelSchema),
  loaded: z.array(loadedModelSchema),
  /** Loads in progress; per-device fractions are in the cluster view's `loads`. */
  loading: z.array(z.object({ id: z.string(), path: z.string(), startedAt: z.number() })),
});
export type ModelsState = z.infer<typeof modelsStateSchema>;

/** Bodies of `POST /api/models/load`, `/unload` and `/import`. */
export const modelLoadSchema = z.object({ path: z.string().trim().min(1) });
export const modelUnloadSchema = z.object({ id: z.string().trim().min(1) });
export const modelImportSchema = z.object({ path: z.string().trim().min(1) });

/** Response of `GET /api/server`: what a client needs to use this node's OpenAI API. */
export const serverInfoSchema = z.object({
  /** e.g. `http://127.0.0.1:7340/v1`. */
  openAiBaseUrl: z.string(),
  apiKeyRequired: z.boolean(),
  /** The key itself (the control API is only for this node's own user); null when none is set. */
  apiKey: z.string().nullable(),
});
export type ServerInfo = z.infer<typeof serverInfoSchema>;

/** One finished request to the OpenAI API. */
export const requestLogEntrySchema = z.object({
  id: z.number().int(),
  /** Milliseconds since the epoch when it arrived. */
  at: z.number(),
  method: z.string(),
  path: z.string(),
  model: z.string().nullable(),
  promptTokens: z.number().int().nullable(),
  completionTokens: z.number().int().nullable(),
  durationMs: z.number().nonnegative(),
  status: z.number().int(),
  stream: z.boolean(),
});
export type RequestLogEntry = z.infer<typeof requestLogEntrySchema>;

// ---- The cluster (Devices and Shards pages) ----

export const CONTROL_CLUSTER_PATH = '/api/cluster';
export const CONTROL_CLUSTER_PLAN_PREVIEW_PATH = '/api/cluster/plan-preview';
export const CONTROL_CLUSTER_PEERS_PATH = '/api/cluster/peers';
export const CONTROL_CLUSTER_SECRET_PATH = '/api/cluster/join-secret';

/** One contiguous layer range on one node (as in shared/mesh-protocol.ts). */
const clusterShardSchema = z.object({ nodeId: z.string(), layerStart: z.number().int(), layerEnd: z.number().int() });

/** Which node runs which layers of a model; the head (last shard) samples. Same shape as the mesh's Plan. */
export const clusterPlanSchema = z.object({
  headNodeId: z.string(),
  shards: z.array(clusterShardSchema),
  predictedTokenSeconds: z.number(),
  predictedComputeSeconds: z.number(),
  predictedHopSeconds: z.number(),
  excludedNodeIds: z.array(z.string()),
});
export type ClusterPlan = z.infer<typeof clusterPlanSchema>;

/** One device's part of a model load: its shard (or the whole model) going into memory. */
export const deviceLoadProgressSchema = z.object({
  /** Mesh node id (the cluster view's nodeId). */
  nodeId: z.string(),
  state: z.enum(['loading', 'ready', 'failed']),
  /** 0..1: the engine's bytes loaded over its total, 0 until it reports, 1 when ready. */
  fraction: z.number().min(0).max(1),
  /** Weight bytes read so far and in all, when the engine reports them. */
  loadedBytes: z.number().nonnegative().nullable(),
  totalBytes: z.number().nonnegative().nullable(),
  error: z.string().nullable(),
});
export type DeviceLoadProgress = z.infer<typeof deviceLoadProgressSchema>;

/** A model load in progress on this node (its head), with every device that loads a part of it. */
export const modelLoadProgressSchema = z.object({
  modelId: z.string(),
  startedAt: z.number(),
  devices: z.array(deviceLoadProgressSchema),
});
export type ModelLoadProgress = z.infer<typeof modelLoadProgressSchema>;

/** Response of `GET /api/cluster` and the payload of the `cluster` event. */
export const clusterViewSchema = z.object({
  /** This node's mesh id (a hash of its Noise key; not NodeInfo.id). */
  selfId: z.string(),
  meshPort: z.number().int(),
  /** This node's cap on memory offered to the cluster (`--memory-limit`), null when none. */
  memoryLimitBytes: z.number().nullable(),
  manualPeers: z.array(z.string()),
  nodes: z.array(
    z.object({
      nodeId: z.string(),
      name: z.string(),
      self: z.boolean(),
      device: z
        .object({
          name: z.string(),
          device: deviceInfoSchema,
          offeredMemoryBytes: z.number(),
          kernelWeightBytesPerSecond: z.number().nullable(),
        })
        .nullable(),
      /**
       * The node's generation rate over the last few seconds (tokens/s, 0 when idle; a shard counts
       * the tokens it ran for a pipeline). Null when the node does not report it (an older version).
       */
      tokensPerSecond: z.number().nonnegative().nullable().optional(),
    }),
  ),
  links: z.array(z.object({ from: z.string(), to: z.string(), rttMs: z.number(), bandwidthBytesPerSecond: z.number().nullable(), measuredAt: z.number() })),
  /** Models whose head is this node, with their plans. */
  plans: z.array(z.object({ planId: z.string(), modelId: z.string(), plan: clusterPlanSchema })),
  /** Shards this node runs, for its own or other nodes' models. */
  shards: z.array(z.object({ planId: z.string(), modelId: z.string(), layerStart: z.number().int(), layerEnd: z.number().int() })),
  /** Models served by other nodes that this node forwards requests to. */
  remoteModels: z.array(z.object({ id: z.string(), headNodeId: z.string() })),
  /** Model loads in progress here, per device; `cluster` events carry it live while loading. */
  loads: z.array(modelLoadProgressSchema).optional(),
});
export type ClusterView = z.infer<typeof clusterViewSchema>;

/** Body of `POST /api/cluster/plan-preview` (GET takes `?path=`). */
export const planPreviewRequestSchema = z.object({ path: z.string().trim().min(1), contextLength: z.number().int().positive().optional() });
/** Body of `POST`/`DELETE /api/cluster/peers`. */
export const clusterPeerSchema = z.object({ address: z.string().trim().min(1) });
/** Body of `PATCH /api/cluster`: the memory cap (null removes it). */
export const clusterUpdateSchema = z.object({ memoryLimitBytes: z.number().int().nonnegative().nullable() });

// ---- Downloads (Models page: catalog and pulls; see main/api/control/downloads-routes.ts) ----

export const CONTROL_CATALOG_PATH = '/api/catalog';
export const CONTROL_DOWNLOADS_PATH = '/api/downloads';

/** One pull on one node, as the Models page shows it. */
export const downloadStateSchema = z.object({
  id: z.string(),
  /** The node doing the download (per-node progress in a cluster). */
  nodeId: z.string(),
  repo: z.string(),
  /** The file asked for; null while the default is being picked. */
  file: z.string().nullable(),
  /** Per-shard download: the layers [start, end) fetched. */
  layers: z.tuple([z.number().int(), z.number().int()]).nullable(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  receivedBytes: z.number().nonnegative(),
  /** 0 until the size is known. */
  totalBytes: z.number().nonnegative(),
  bytesPerSecond: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  /** Model id in the store once done. */
  modelId: z.string().nullable(),
  /** TesseraError code and message when failed. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  startedAt: z.number(),
});
export type DownloadState = z.infer<typeof downloadStateSchema>;

/** Body of `POST /api/downloads`. */
export const downloadRequestSchema = z.object({
  repo: z.string().trim().min(3),
  file: z.string().trim().min(1).optional(),
  layers: z.tuple([z.number().int().nonnegative(), z.number().int().positive()]).optional(),
});
export type DownloadRequest = z.infer<typeof downloadRequestSchema>;

export const controlEventSchema = z.discriminatedUnion('type', [
  /** The cluster view changed (a peer came or went, figures, plans). */
  z.object({ type: z.literal('cluster'), cluster: clusterViewSchema }),
  /** A request to the OpenAI API finished (Server page's live log). */
  z.object({ type: z.literal('request'), request: requestLogEntrySchema }),
  /** Local or loaded models changed; fetch GET /api/models again. */
  z.object({ type: z.literal('models') }),
  /** First event on every connection: the node as it is now. */
  z.object({ type: z.literal('hello'), node: nodeInfoSchema }),
  /** Fresh device figures, sent every few seconds. */
  z.object({ type: z.literal('device'), device: deviceInfoSchema }),
  /** The node's identity changed (e.g. renamed). */
  z.object({ type: z.literal('node'), node: nodeInfoSchema }),
  /** A download started, moved on (a few times a second at most) or ended. */
  z.object({ type: z.literal('download'), download: downloadStateSchema }),
]);
export type ControlEvent = z.infer<typeof controlEventSchema>;
export type ControlEventType = ControlEvent['type'];

/** Parses and validates one message from the events socket; throws on anything else. */
export function decodeControlEvent(text: string): ControlEvent {
  return controlEventSchema.parse(JSON.parse(text));
}

/** Error body of every failed control API request. `code` is an ErrorCode from shared/errors.ts. */
export interface ApiErrorBody {
  error: { code: string; type: string; message: string };
}

/** What the Electron preload exposes to the window as `window.tessera` (see main/app/preload.ts). */
export interface TesseraPreloadApi {
  /** The node token, handed by the main process so it never appears in a URL. */
  getToken(): Promise<string>;
}

/** Name of the global the preload defines. */
export const PRELOAD_GLOBAL = 'tessera';
/** IPC channel the preload asks the main process on. */
export const PRELOAD_TOKEN_CHANNEL = 'tessera:get-token';
