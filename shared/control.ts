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

export const controlEventSchema = z.discriminatedUnion('type', [
  /** First event on every connection: the node as it is now. */
  z.object({ type: z.literal('hello'), node: nodeInfoSchema }),
  /** Fresh device figures, sent every few seconds. */
  z.object({ type: z.literal('device'), device: deviceInfoSchema }),
  /** The node's identity changed (e.g. renamed). */
  z.object({ type: z.literal('node'), node: nodeInfoSchema }),
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
