// LAN discovery over mDNS (the `multicast-dns` package): announce this node's mesh port and id
// under MESH_MDNS_SERVICE, browse for others, and report each one found. Presence of a connected
// peer is decided by the mesh link's heartbeats, not here; discovery only says where to dial.
// A goodbye (TTL 0) on stop lets others forget us at once; otherwise a record lives its TTL.
import createMulticastDns, { type MulticastDNS, type Options as MulticastDnsOptions } from 'multicast-dns';
import { MESH_MDNS_SERVICE, MESH_PROTOCOL_VERSION } from '../../shared/mesh-protocol.js';

/** Default interval between browse queries. */
export const DISCOVERY_QUERY_INTERVAL_MS = 3_000;
/** Default TTL of our records, seconds. */
export const DISCOVERY_RECORD_TTL_S = 10;

export interface DiscoveryOptions {
  queryIntervalMs?: number;
  ttlSeconds?: number;
  /** Passed to multicast-dns (interface, port, loopback…); tests use its defaults with loopback on. */
  multicast?: MulticastDnsOptions;
}

export interface DiscoveredPeer {
  nodeId: string;
  host: string;
  port: number;
}

interface Answer {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

export class MdnsDiscovery {
  readonly #nodeId: string;
  readonly #port: number;
  readonly #options: DiscoveryOptions;
  #mdns: MulticastDNS | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #foundListeners = new Set<(peer: DiscoveredPeer) => void>();
  readonly #lostListeners = new Set<(nodeId: string) => void>();

  constructor(nodeId: string, port: number, options: DiscoveryOptions = {}) {
    this.#nodeId = nodeId;
    this.#port = port;
    this.#options = options;
  }

  get #instance(): string {
    return `${this.#nodeId}.${MESH_MDNS_SERVICE}`;
  }

  onFound(listener: (peer: DiscoveredPeer) => void): void {
    this.#foundListeners.add(listener);
  }

  onLost(listener: (nodeId: string) => void): void {
    this.#lostListeners.add(listener);
  }

  start(): void {
    const mdns = createMulticastDns({ reuseAddr: true, loopback: true, ...this.#options.multicast });
    this.#mdns = mdns;
    // UDP trouble (no multicast route, port taken) must not take the node down: manual peers still work.
    mdns.on('error', (error) => console.warn(`tessera: mDNS discovery error: ${(error as Error).message}`));
    mdns.on('warning', () => {});
    mdns.on('query', (query) => {
      const asked = (query.questions as Answer[]).some((question) => question.name === MESH_MDNS_SERVICE);
      if (asked) mdns.respond({ answers: this.#records(this.#ttl) } as never);
    });
    mdns.on('response', (response, remote) => this.#onResponse(response as unknown as { answers: Answer[]; additionals?: Answer[] }, remote.address));
    const browse = () => mdns.query({ questions: [{ name: MESH_MDNS_SERVICE, type: 'PTR' }] } as never);
    mdns.respond({ answers: this.#records(this.#ttl) } as never); // announce ourselves at once
    browse();
    this.#timer = setInterval(browse, this.#options.queryIntervalMs ?? DISCOVERY_QUERY_INTERVAL_MS);
  }

  /** Sends a goodbye and closes the socket. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const mdns = this.#mdns;
    this.#mdns = undefined;
    if (!mdns) return;
    await new Promise<void>((resolve) => {
      try {
        mdns.respond({ answers: this.#records(0) } as never, () => resolve());
      } catch {
        resolve();
      }
    });
    await new Promise<void>((resolve) => mdns.destroy(() => resolve()));
  }

  get #ttl(): number {
    return this.#options.ttlSeconds ?? DISCOVERY_RECORD_TTL_S;
  }

  #records(ttl: number): Answer[] {
    const instance = this.#instance;
    return [
      { name: MESH_MDNS_SERVICE, type: 'PTR', ttl, data: instance },
      { name: instance, type: 'SRV', ttl, data: { port: this.#port, target: `${this.#nodeId}.local`, weight: 0, priority: 0 } },
      { name: instance, type: 'TXT', ttl, data: [`id=${this.#nodeId}`, `v=${MESH_PROTOCOL_VERSION}`] },
    ];
  }

  #onResponse(response: { answers: Answer[]; additionals?: Answer[] }, host: string): void {
    const records = [...(response.answers ?? []), ...(response.additionals ?? [])];
    for (const pointer of records) {
      if (pointer.name !== MESH_MDNS_SERVICE || pointer.type !== 'PTR' || typeof pointer.data !== 'string') continue;
      const instance = pointer.data;
      const txt = records.find((record) => record.name === instance && record.type === 'TXT');
      const srv = records.find((record) => record.name === instance && record.type === 'SRV');
      const fields = new Map(
        (Array.isArray(txt?.data) ? txt.data : []).map((entry: unknown) => {
          const text = String(entry);
          const equals = text.indexOf('=');
          return [text.slice(0, equals), text.slice(equals + 1)] as const;
        }),
      );
      const nodeId = fields.get('id');
      const port = (srv?.data as { port?: unknown } | undefined)?.port;
      if (!nodeId || nodeId === this.#nodeId || typeof port !== 'number' || !/^[0-9a-f]{32}$/.test(nodeId)) continue;
      if (fields.get('v') !== String(MESH_PROTOCOL_VERSION)) continue; // the link would be refused anyway
      if (pointer.ttl === 0) for (const listener of this.#lostListeners) listener(nodeId);
      else for (const listener of this.#foundListeners) listener({ nodeId, host, port });
    }
  }
}

/**
 * Whether multicast reaches this machine's own sockets (so discovery between processes here can
 * work): one socket asks, another answers, within `timeoutMs`.
 */
export async function multicastLoopbackWorks(timeoutMs = 1_500, options: MulticastDnsOptions = {}): Promise<boolean> {
  const name = `probe-${process.pid}-${Date.now()}.${MESH_MDNS_SERVICE}`;
  const asker = createMulticastDns({ reuseAddr: true, loopback: true, ...options });
  const answerer = createMulticastDns({ reuseAddr: true, loopback: true, ...options });
  for (const socket of [asker, answerer]) socket.on('error', () => {});
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      answerer.on('query', (query) => {
        if ((query.questions as Answer[]).some((question) => question.name === name)) {
          answerer.respond({ answers: [{ name, type: 'TXT', ttl: 1, data: ['ok'] }] } as never);
        }
      });
      asker.on('response', (response) => {
        if ((response.answers as Answer[]).some((answer) => answer.name === name)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      const ask = () => asker.query({ questions: [{ name, type: 'TXT' }] } as never);
      ask();
      setTimeout(ask, 200).unref();
    });
  } finally {
    await Promise.all([asker, answerer].map((socket) => new Promise<void>((resolve) => socket.destroy(() => resolve()))));
  }
}
