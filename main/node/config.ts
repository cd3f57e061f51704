// Everything needed to build a node. Defaults live here, once; the CLI and the Electron shell
// fill a NodeConfig from their flags.
import { join } from 'node:path';
import { DEFAULT_HTTP_PORT } from '../../shared/control.js';
import { defaultDataDir } from './data-dir.js';
import { DEVICE_SAMPLE_INTERVAL_MS } from './device.js';
import { packageRoot } from './version.js';

/** Localhost only by default: the UI and control API are for this machine's user. */
export const DEFAULT_HTTP_HOST = '127.0.0.1';
export { DEFAULT_HTTP_PORT };

export interface NodeConfig {
  /** Where identity, token and (later) models live. */
  dataDir: string;
  /** Address the HTTP server binds. */
  host: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  /** Replaces the stored node name when given. */
  name?: string;
  /** Folder of the built UI; defaults to dist/renderer in the package. */
  uiDir?: string;
  /** How often device figures are re-read. */
  deviceSampleIntervalMs?: number;
  /** A GGUF file to load and serve at start. */
  model?: string;
  /** When set, the OpenAI API needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Origins the OpenAI API allows by CORS ('*' for any); none by default. */
  corsOrigins?: string[];
  /** Compute threads per loaded model (default: one per core). */
  threads?: number;
  /** Positions each conversation's KV cache holds (default: the model's, capped). */
  contextLength?: number;
  /** The mesh (main/node/cluster.ts); absent: the node runs alone with no mesh server. */
  mesh?: NodeMeshConfig;
}

export interface NodeMeshConfig {
  /** LAN-facing mesh port (DEFAULT_MESH_PORT 7341); 0 picks a free one. */
  port?: number;
  /** Address the mesh binds (default 0.0.0.0). */
  host?: string;
  /** The cluster's join secret; the stored one (or a new one) when absent. */
  joinSecret?: string;
  /** Manual peers, `host:port`. */
  peers?: string[];
  /** mDNS discovery (default on). */
  discovery?: boolean;
  /** Caps the memory this node offers the cluster, bytes. */
  memoryLimitBytes?: number;
}

export function defaultNodeConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  return { dataDir: defaultDataDir(), host: DEFAULT_HTTP_HOST, port: DEFAULT_HTTP_PORT, ...overrides };
}

export function defaultUiDir(): string {
  return join(packageRoot(), 'dist', 'renderer');
}

export const DEFAULT_DEVICE_SAMPLE_INTERVAL_MS = DEVICE_SAMPLE_INTERVAL_MS;
