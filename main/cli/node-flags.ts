// Flags shared by every command that starts a node (`serve`, `start`, and the Electron shell),
// and their conversion into a NodeConfig with one clear error per bad value.
import { resolve } from 'node:path';
import { DEFAULT_HTTP_PORT, MAX_NODE_NAME_LENGTH } from '../../shared/control.js';
import { TesseraError } from '../../shared/errors.js';
import { DEFAULT_HTTP_HOST, type NodeConfig } from '../node/config.js';
import { defaultDataDir, expandHome } from '../node/data-dir.js';
import { DEFAULT_MESH_PORT } from '../../shared/mesh-protocol.js';
import { parsePeerAddress } from '../mesh/peer-address.js';
import { parseMemorySize } from '../node/kernel-throughput.js';
import { stringFlag, stringListFlag, type CommandFlag, type FlagValues } from './command.js';

export const NODE_FLAGS: Record<string, CommandFlag> = {
  port: { type: 'string', short: 'p', valueName: '<port>', defaultText: String(DEFAULT_HTTP_PORT), description: 'HTTP port for the UI, control API (/api) and OpenAI API (/v1); 0 picks a free one' },
  host: { type: 'string', valueName: '<address>', defaultText: DEFAULT_HTTP_HOST, description: 'address to listen on (0.0.0.0 exposes the node to your network)' },
  'data-dir': { type: 'string', valueName: '<path>', defaultText: '$TESSERA_HOME or ~/.tessera', description: 'where the node keeps its identity, token and models' },
  name: { type: 'string', valueName: '<name>', defaultText: 'the host name', description: 'name this node shows to you and its peers (remembered)' },
  model: { type: 'string', short: 'm', valueName: '<file.gguf>', description: 'load this model at start; its id in /v1/models is the file name without .gguf' },
  'api-key': { type: 'string', valueName: '<key>', defaultText: '$TESSERA_API_KEY, or none', description: 'require "Authorization: Bearer <key>" on the OpenAI API' },
  cors: { type: 'string', valueName: '<origins>', defaultText: 'off', description: 'comma-separated origins the OpenAI API allows by CORS, or *' },
  threads: { type: 'string', short: 't', valueName: '<n>', defaultText: 'one per core', description: 'compute threads per loaded model' },
  'ctx-size': { type: 'string', short: 'c', valueName: '<tokens>', defaultText: 'the model\'s, at most 4096', description: 'context length (KV cache positions) per conversation' },
  'mesh-port': { type: 'string', valueName: '<port>', defaultText: String(DEFAULT_MESH_PORT), description: 'port of the mesh other nodes connect to (on the LAN); 0 picks a free one' },
  join: { type: 'string', valueName: '<secret>', defaultText: 'the stored one, or a new one', description: 'join secret of the cluster to join (printed by the first node)' },
  peer: { type: 'string', multiple: true, valueName: '<host:port>', description: 'a node to connect to where discovery cannot see it (repeatable)' },
  'no-discovery': { type: 'boolean', description: 'do not find or announce nodes on the LAN (mDNS); use --peer' },
  'memory-limit': { type: 'string', valueName: '<size>', defaultText: 'free memory', description: 'most memory this node offers the cluster, e.g. 4G or 512M' },
};

export function nodeConfigFromFlags(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const dataDirFlag = stringFlag(flags, 'data-dir');
  return {
    port: parsePort(stringFlag(flags, 'port')),
    host: parseHost(stringFlag(flags, 'host')),
    dataDir: dataDirFlag !== undefined ? resolve(expandHome(nonEmpty(dataDirFlag, '--data-dir'))) : defaultDataDir(env),
    name: parseName(stringFlag(flags, 'name')),
    ...optional('model', modelPath(stringFlag(flags, 'model'))),
    ...optional('apiKey', stringFlag(flags, 'api-key') ?? nonBlank(env.TESSERA_API_KEY)),
    ...optional('corsOrigins', corsOrigins(stringFlag(flags, 'cors'))),
    ...optional('threads', positiveInteger(stringFlag(flags, 'threads'), '--threads', 256)),
    ...optional('contextLength', positiveInteger(stringFlag(flags, 'ctx-size'), '--ctx-size', 1 << 20)),
    mesh: meshConfig(flags),
  };
}

function meshConfig(flags: FlagValues): NonNullable<NodeConfig['mesh']> {
  const portText = stringFlag(flags, 'mesh-port');
  const peers = stringListFlag(flags, 'peer').map((address) => {
    parsePeerAddress(address); // throws CLI_BAD_ARGUMENT with the reason
    return address.trim();
  });
  const join = stringFlag(flags, 'join');
  const limitText = stringFlag(flags, 'memory-limit');
  const memoryLimitBytes = limitText === undefined ? undefined : parseMemorySize(limitText);
  if (limitText !== undefined && memoryLimitBytes === undefined) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--memory-limit takes a size like 4G, 512M or 1048576, got "${limitText}"`);
  }
  // Electron's lenient parse reads every flag as a string: any value there means "given".
  const noDiscovery = flags['no-discovery'] !== undefined && flags['no-discovery'] !== false;
  return {
    port: portText === undefined ? DEFAULT_MESH_PORT : parseMeshPort(portText),
    peers,
    discovery: !noDiscovery,
    ...optional('joinSecret', join === undefined ? undefined : nonEmpty(join, '--join')),
    ...optional('memoryLimitBytes', memoryLimitBytes),
  };
}

function parseMeshPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--mesh-port must be a whole number from 0 to 65535, got "${text}"`);
  }
  return port;
}

/** `{ [key]: value }` when value is defined, else `{}` (keeps absent options absent). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function nonBlank(text: string | undefined): string | undefined {
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function modelPath(text: string | undefined): string | undefined {
  return text === undefined ? undefined : resolve(expandHome(nonEmpty(text, '--model')));
}

function corsOrigins(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const origins = text.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new TesseraError('CLI_BAD_ARGUMENT', `--cors takes origins like http://localhost:3000 (or *), got "${origin}"`);
    }
  }
  return origins;
}

function positiveInteger(text: string | undefined, flag: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > max) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `${flag} must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return value;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_HTTP_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--port must be a whole number from 0 to 65535, got "${text}"`);
  }
  return port;
}

function parseHost(text: string | undefined): string {
  if (text === undefined) return DEFAULT_HTTP_HOST;
  const host = nonEmpty(text, '--host');
  if (/[\s/@]/.test(host)) throw new TesseraError('CLI_BAD_ARGUMENT', `--host must be an address or host name, got "${text}"`);
  return host.replace(/^\[(.*)\]$/, '$1');
}

function parseName(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const name = nonEmpty(text, '--name');
  if (name.length > MAX_NODE_NAME_LENGTH) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--name is at most ${MAX_NODE_NAME_LENGTH} characters, got ${name.length}`);
  }
  return name;
}

function nonEmpty(text: string, flag: string): string {
  const trimmed = text.trim();
  if (trimmed === '') throw new TesseraError('CLI_BAD_ARGUMENT', `${flag} needs a value`);
  return trimmed;
}
