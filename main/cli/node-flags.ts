// Flags shared by every command that starts a node (`serve`, `start`, and the Electron shell),
// and their conversion into a NodeConfig with one clear error per bad value.
import { resolve } from 'node:path';
import { DEFAULT_HTTP_PORT, MAX_NODE_NAME_LENGTH } from '../../shared/control.js';
import { TesseraError } from '../../shared/errors.js';
import { DEFAULT_HTTP_HOST, type NodeConfig } from '../node/config.js';
import { defaultDataDir, expandHome } from '../node/data-dir.js';
import { stringFlag, type CommandFlag, type FlagValues } from './command.js';

export const NODE_FLAGS: Record<string, CommandFlag> = {
  port: { type: 'string', short: 'p', valueName: '<port>', defaultText: String(DEFAULT_HTTP_PORT), description: 'HTTP port for the UI, control API (/api) and OpenAI API (/v1); 0 picks a free one' },
  host: { type: 'string', valueName: '<address>', defaultText: DEFAULT_HTTP_HOST, description: 'address to listen on (0.0.0.0 exposes the node to your network)' },
  'data-dir': { type: 'string', valueName: '<path>', defaultText: '$TESSERA_HOME or ~/.tessera', description: 'where the node keeps its identity, token and models' },
  name: { type: 'string', valueName: '<name>', defaultText: 'the host name', description: 'name this node shows to you and its peers (remembered)' },
};

export function nodeConfigFromFlags(flags: FlagValues, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const dataDirFlag = stringFlag(flags, 'data-dir');
  return {
    port: parsePort(stringFlag(flags, 'port')),
    host: parseHost(stringFlag(flags, 'host')),
    dataDir: dataDirFlag !== undefined ? resolve(expandHome(nonEmpty(dataDirFlag, '--data-dir'))) : defaultDataDir(env),
    name: parseName(stringFlag(flags, 'name')),
  };
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
