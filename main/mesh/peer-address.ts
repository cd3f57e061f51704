// Manual peer addresses: `host:port`, `[ipv6]:port`, or a bare host (the default mesh port).
import { TesseraError } from '../../shared/errors.js';
import { DEFAULT_MESH_PORT } from '../../shared/mesh-protocol.js';

export interface PeerAddress {
  host: string;
  port: number;
}

/** Throws CLI_BAD_ARGUMENT on anything that is not a host with an optional valid port. */
export function parsePeerAddress(text: string): PeerAddress {
  const input = text.trim();
  const bad = (why: string) => new TesseraError('CLI_BAD_ARGUMENT', `peer address "${text}": ${why} (expected host:port)`);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(input);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if ((input.match(/:/g) ?? []).length > 1) {
    host = input; // a bare IPv6 address
  } else {
    const colon = input.lastIndexOf(':');
    host = colon === -1 ? input : input.slice(0, colon);
    portText = colon === -1 ? undefined : input.slice(colon + 1);
  }
  if (!host || /[\s/?#@]/.test(host)) throw bad('missing or invalid host');
  const port = portText === undefined ? DEFAULT_MESH_PORT : Number(portText);
  if (!/^\d*$/.test(portText ?? '') || !Number.isInteger(port) || port < 1 || port > 65535) throw bad('port must be 1-65535');
  return { host, port };
}

export function formatPeerAddress({ host, port }: PeerAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
