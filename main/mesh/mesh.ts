// The mesh service: a WebSocket server on the mesh port, links to peers (dialled by address,
// found by mDNS, or dialled in by them), one live link per peer, and typed messages to and from
// peers by node id. It owns no model or engine state: the node wires plans and shards on top.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { TesseraError } from '../../shared/errors.js';
import {
  DEFAULT_MESH_PORT,
  MESH_FEATURES,
  MESH_WEBSOCKET_PATH,
  type MeshDeviceReport,
  type MeshLinkReport,
  type MeshMessage,
} from '../../shared/mesh-protocol.js';
import { MdnsDiscovery, type DiscoveryOptions } from './discovery.js';
import { MAX_WIRE_MESSAGE_BYTES } from './frames.js';
import { derivePresharedKey, loadOrCreateJoinSecret } from './join-secret.js';
import { loadOrCreateStaticKeyPair, nodeIdFromPublicKey, type StaticKeyPair } from './keys.js';
import { NoiseChannel, asTesseraError } from './noise-channel.js';
import { BANDWIDTH_PROBE_BYTES, PeerLink, type PeerLinkOptions } from './peer-link.js';
import { formatPeerAddress, parsePeerAddress } from './peer-address.js';

/** The mesh faces the LAN: other desktops must reach it. */
export const DEFAULT_MESH_HOST = '0.0.0.0';
/** Default wait before redialling a manual peer that is down. */
export const PEER_RECONNECT_MS = 2_000;
/** Default interval between our topology (link figures) broadcasts. */
export const TOPOLOGY_BROADCAST_MS = 5_000;
/** Default interval between bandwidth probes on each link (the first runs right after joining). */
export const BANDWIDTH_PROBE_INTERVAL_MS = 60_000;
/** Sockets still in their handshake at once; more are dropped (a flood must not exhaust memory). */
export const MAX_PENDING_HANDSHAKES = 32;

export interface MeshConfig {
  /** Node data directory: the mesh keeps its key and join secret in `<dataDir>/mesh/`. */
  dataDir: string;
  /** User-facing node name sent in hello. */
  name: string;
  /** Address the mesh server binds (default DEFAULT_MESH_HOST). */
  host?: string;
  /** Mesh port (default DEFAULT_MESH_PORT); 0 picks a free one. */
  port?: number;
  /** Join secret; when absent the stored one is used, or a new one is generated and stored. */
  joinSecret?: string;
  /** Manual peers, `host:port` (IPv6 as `[::1]:7341`); dialled and redialled while the mesh runs. */
  peers?: string[];
  /** mDNS discovery: on by default; `false` turns it off; an object tunes it. */
  discovery?: boolean | DiscoveryOptions;
  heartbeatIntervalMs?: number;
  peerTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  reconnectIntervalMs?: number;
  topologyIntervalMs?: number;
  /** 0 turns periodic probes off (measureBandwidth still works). */
  bandwidthProbeIntervalMs?: number;
  bandwidthProbeBytes?: number;
  /** Abilities announced to peers (default DEFAULT_MESH_FEATURES); `[]` makes this node look like an older one. */
  features?: readonly string[];
}

/** What this version of the mesh can do beyond the protocol's baseline. */
export const DEFAULT_MESH_FEATURES: readonly string[] = [MESH_FEATURES.tensorF16, MESH_FEATURES.modelFiles];

/** What the mesh knows about one connected peer. */
export interface PeerSummary {
  nodeId: string;
  name: string;
  /** Address the link runs over (the peer's socket address). */
  address: string | undefined;
  meshPort: number;
  /** True when this node dialled the link. */
  dialled: boolean;
  connectedAt: number;
  rttMs: number | null;
  bandwidthBytesPerSecond: number | null;
  device: MeshDeviceReport | null;
}

export interface MeshTopology {
  selfId: string;
  nodes: Array<{ nodeId: string; name: string; self: boolean; device: MeshDeviceReport | null }>;
  /** Links as their `from` end measured them: ours, plus those peers reported. */
  links: MeshLinkReport[];
}

export interface MeshEvents {
  'peer-joined': PeerSummary;
  'peer-left': { nodeId: string; name: string; error: TesseraError };
  /** Device report, link figures or topology of a peer changed. */
  'peer-updated': PeerSummary;
  /** Any message other than heartbeats and probes, including tensor frames. */
  message: { from: string; message: MeshMessage };
  /** A link that failed before it was up: wrong secret, version mismatch, unreachable address… */
  'link-failed': { address: string; dialled: boolean; error: TesseraError };
}

type Listener<E extends keyof MeshEvents> = (payload: MeshEvents[E]) => void;

interface ManualPeer {
  address: string;
  nodeId?: string;
  timer?: NodeJS.Timeout;
  dialling: boolean;
}

export class Mesh {
  readonly #config: MeshConfig;
  readonly #keyPair: StaticKeyPair;
  readonly #psk: Buffer;
  readonly nodeId: string;
  readonly joinSecret: string;
  /** True when the join secret was generated at this start (show it to the user). */
  readonly joinSecretCreated: boolean;

  #name: string;
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #port = 0;
  #discovery: MdnsDiscovery | undefined;
  #stopped = false;
  readonly #links = new Map<string, PeerLink>();
  readonly #pending = new Set<WebSocket>();
  readonly #manual = new Map<string, ManualPeer>();
  readonly #discoveredDialling = new Set<string>();
  readonly #devices = new Map<string, MeshDeviceReport>();
  readonly #reportedLinks = new Map<string, MeshLinkReport[]>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #listeners = new Map<keyof MeshEvents, Set<(payload: never) => void>>();
  #ownDevice: MeshDeviceReport | undefined;

  private constructor(config: MeshConfig, keyPair: StaticKeyPair, psk: Buffer, secret: { secret: string; created: boolean }) {
    this.#config = config;
    this.#keyPair = keyPair;
    this.#psk = psk;
    this.nodeId = nodeIdFromPublicKey(keyPair.publicKey);
    this.joinSecret = secret.secret;
    this.joinSecretCreated = secret.created;
    this.#name = config.name;
  }

  /** Loads (or makes) the key and join secret, listens, starts discovery and dials manual peers. */
  static async start(config: MeshConfig): Promise<Mesh> {
    const keyPair = await loadOrCreateStaticKeyPair(config.dataDir);
    const secret = await loadOrCreateJoinSecret(config.dataDir, config.joinSecret);
    const psk = await derivePresharedKey(secret.secret);
    const mesh = new Mesh(config, keyPair, psk, secret);
    await mesh.#listen();
    for (const address of config.peers ?? []) mesh.addPeer(address);
    if (config.discovery !== false) mesh.#startDiscovery(config.discovery === true ? {} : (config.discovery ?? {}));
    return mesh;
  }

  /** The port the mesh server listens on. */
  get port(): number {
    return this.#port;
  }

  get name(): string {
    return this.#name;
  }

  on<E extends keyof MeshEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Connected peers, by node id order. */
  peers(): PeerSummary[] {
    return [...this.#links.values()].map((link) => this.#summary(link)).sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  }

  peer(nodeId: string): PeerSummary | undefined {
    const link = this.#links.get(nodeId);
    return link && this.#summary(link);
  }

  /** This node, its peers, their devices, and every measured link between them. */
  topology(): MeshTopology {
    const present = new Set([this.nodeId, ...this.#links.keys()]);
    const nodes = [
      { nodeId: this.nodeId, name: this.#name, self: true, device: this.#ownDevice ?? null },
      ...this.peers().map((peer) => ({ nodeId: peer.nodeId, name: peer.name, self: false, device: peer.device })),
    ];
    const links = [...this.#ownLinks()];
    for (const [from, reported] of this.#reportedLinks) {
      if (!present.has(from)) continue;
      links.push(...reported.filter((link) => link.from === from && present.has(link.to)));
    }
    return { selfId: this.nodeId, nodes, links };
  }

  /** Sets this node's device report and sends it to every peer (and to each new one). */
  updateDevice(report: MeshDeviceReport): void {
    this.#ownDevice = report;
    this.#name = report.name;
    this.broadcast({ type: 'device', report });
  }

  /** Sends a message to one peer. Throws PEER_UNREACHABLE when not connected to it. */
  send(nodeId: string, message: MeshMessage): void {
    const link = this.#links.get(nodeId);
    if (!link || link.closed) throw new TesseraError('PEER_UNREACHABLE', `not connected to node ${nodeId}`);
    link.send(message);
  }

  /** Sends a message to every connected peer; a peer whose link just closed is skipped. */
  broadcast(message: MeshMessage): void {
    for (const link of this.#links.values()) {
      if (link.closed) continue;
      try {
        link.send(message);
      } catch {
        // the link is closing; its close handler reports the peer gone
      }
    }
  }

  /** Whether a connected peer announced an optional ability (MESH_FEATURES); false when not connected. */
  peerSupports(nodeId: string, feature: string): boolean {
    return this.#links.get(nodeId)?.supports(feature) ?? false;
  }

  /** Bytes queued on the link to a peer and not yet handed to the OS; 0 when not connected. */
  bufferedBytes(nodeId: string): number {
    const link = this.#links.get(nodeId);
    return link === undefined || link.closed ? 0 : link.bufferedBytes;
  }

  /** Measures the link to a peer now (bytes/s). */
  async measureBandwidth(nodeId: string, bytes = this.#config.bandwidthProbeBytes ?? BANDWIDTH_PROBE_BYTES): Promise<number> {
    const link = this.#links.get(nodeId);
    if (!link) throw new TesseraError('PEER_UNREACHABLE', `not connected to node ${nodeId}`);
    const bandwidth = await link.measureBandwidth(bytes);
    if (this.#links.get(nodeId) === link) this.#emit('peer-updated', this.#summary(link));
    return bandwidth;
  }

  /** Adds a manual peer (`host:port`) and keeps a link to it. Throws CLI_BAD_ARGUMENT on a bad address. */
  addPeer(address: string): void {
    const normalized = formatPeerAddress(parsePeerAddress(address));
    if (this.#stopped || this.#manual.has(normalized)) return;
    const peer: ManualPeer = { address: normalized, dialling: false };
    this.#manual.set(normalized, peer);
    this.#dialManual(peer);
  }

  /** Stops redialling a manual peer (an open link to it stays). */
  removePeer(address: string): void {
    const normalized = formatPeerAddress(parsePeerAddress(address));
    const peer = this.#manual.get(normalized);
    if (!peer) return;
    clearTimeout(peer.timer);
    this.#manual.delete(normalized);
  }

  manualPeers(): string[] {
    return [...this.#manual.keys()];
  }

  /** Closes every link and socket and stops discovery and timers. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const peer of this.#manual.values()) clearTimeout(peer.timer);
    const discovery = this.#discovery;
    this.#discovery = undefined;
    const stopping = new TesseraError('MESH_STOPPED', 'node is stopping');
    for (const link of this.#links.values()) link.close(stopping);
    for (const socket of this.#pending) socket.terminate();
    await discovery?.stop();
    await new Promise<void>((resolve) => (this.#wss ? this.#wss.close(() => resolve()) : resolve()));
    for (const client of this.#wss?.clients ?? []) client.terminate();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  // ---- listening and dialling ------------------------------------------------------------

  async #listen(): Promise<void> {
    const server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain' }).end('Tessera mesh: WebSocket only\n');
    });
    const wss = new WebSocketServer({ server, path: MESH_WEBSOCKET_PATH, maxPayload: MAX_WIRE_MESSAGE_BYTES });
    wss.on('connection', (socket, request) => this.#accept(socket, request));
    wss.on('error', () => {}); // server errors surface through listen() below
    const host = this.#config.host ?? DEFAULT_MESH_HOST;
    const port = this.#config.port ?? DEFAULT_MESH_PORT;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        reject(
          error.code === 'EADDRINUSE'
            ? new TesseraError('PORT_IN_USE', `mesh port ${port} on ${host} is in use (choose another with --mesh-port)`, { cause: error })
            : error,
        );
      });
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
    this.#wss = wss;
    this.#port = (server.address() as AddressInfo).port;
  }

  #accept(socket: WebSocket, request: IncomingMessage): void {
    const address = formatPeerAddress({ host: request.socket.remoteAddress ?? 'unknown', port: request.socket.remotePort ?? 0 });
    if (this.#stopped || this.#pending.size >= MAX_PENDING_HANDSHAKES) {
      socket.terminate();
      return;
    }
    void this.#establish(socket, address, false).catch(() => {});
  }

  /** Dials `address` once; resolves with the peer's node id when the link is up. */
  #dial(address: string): Promise<string> {
    const { host, port } = parsePeerAddress(address);
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}${MESH_WEBSOCKET_PATH}`;
    const socket = new WebSocket(url, {
      maxPayload: MAX_WIRE_MESSAGE_BYTES,
      handshakeTimeout: this.#config.handshakeTimeoutMs,
    });
    return this.#establish(socket, address, true);
  }

  async #establish(socket: WebSocket, address: string, dialled: boolean): Promise<string> {
    this.#pending.add(socket);
    socket.on('error', () => {}); // errors are reported through close / the handshake's rejection
    try {
      const channelOptions = { staticKeyPair: this.#keyPair, psk: this.#psk, handshakeTimeoutMs: this.#config.handshakeTimeoutMs };
      const channel = dialled ? await NoiseChannel.initiate(socket, channelOptions) : await NoiseChannel.accept(socket, channelOptions);
      if (channel.remoteNodeId === this.nodeId) {
        const error = new TesseraError('MESH_DUPLICATE_LINK', 'this address is this node itself');
        channel.close(error);
        throw error;
      }
      const link = await PeerLink.establish(channel, this.#linkOptions());
      if (this.#stopped) {
        link.close(new TesseraError('MESH_STOPPED', 'node is stopping'));
        throw new TesseraError('MESH_STOPPED', 'node is stopping');
      }
      this.#register(link);
      return link.nodeId;
    } catch (error) {
      const failure = asTesseraError(error, 'PEER_UNREACHABLE');
      if (!this.#stopped) this.#emit('link-failed', { address, dialled, error: failure });
      throw failure;
    } finally {
      this.#pending.delete(socket);
    }
  }

  #linkOptions(): PeerLinkOptions {
    return {
      nodeId: this.nodeId,
      name: this.#name,
      meshPort: this.#port,
      features: this.#config.features ?? DEFAULT_MESH_FEATURES,
      heartbeatIntervalMs: this.#config.heartbeatIntervalMs,
      peerTimeoutMs: this.#config.peerTimeoutMs,
      helloTimeoutMs: this.#config.handshakeTimeoutMs,
    };
  }

  #dialManual(peer: ManualPeer): void {
    if (this.#stopped || this.#manual.get(peer.address) !== peer || peer.dialling) return;
    if (peer.nodeId && this.#links.has(peer.nodeId)) return; // already linked (perhaps it dialled us)
    peer.dialling = true;
    this.#dial(peer.address).then(
      (nodeId) => {
        peer.dialling = false;
        peer.nodeId = nodeId;
      },
      () => {
        peer.dialling = false;
        this.#scheduleRedial(peer);
      },
    );
  }

  #scheduleRedial(peer: ManualPeer): void {
    if (this.#stopped || this.#manual.get(peer.address) !== peer) return;
    clearTimeout(peer.timer);
    peer.timer = setTimeout(() => this.#dialManual(peer), this.#config.reconnectIntervalMs ?? PEER_RECONNECT_MS);
  }

  #startDiscovery(options: DiscoveryOptions): void {
    const discovery = new MdnsDiscovery(this.nodeId, this.#port, options);
    discovery.onFound(({ nodeId, host, port }) => {
      if (this.#stopped || nodeId === this.nodeId || this.#links.has(nodeId) || this.#discoveredDialling.has(nodeId)) return;
      this.#discoveredDialling.add(nodeId);
      this.#dial(formatPeerAddress({ host, port }))
        .catch(() => {})
        .finally(() => this.#discoveredDialling.delete(nodeId));
    });
    discovery.start();
    this.#discovery = discovery;
  }

  // ---- links -----------------------------------------------------------------------------

  /**
   * Makes `link` the peer's link. When two nodes dial each other at once each ends up with two
   * links; both keep the one dialled by the smaller node id, so they agree without talking.
   * Two links dialled by the same side mean the older one is stale (the peer restarted): keep the new.
   */
  #register(link: PeerLink): void {
    const existing = this.#links.get(link.nodeId);
    if (existing && !existing.closed) {
      const preferredDialler = this.nodeId < link.nodeId ? this.nodeId : link.nodeId;
      const dialler = (candidate: PeerLink) => (candidate.initiator ? this.nodeId : candidate.nodeId);
      const keepExisting = dialler(existing) !== dialler(link) && dialler(existing) === preferredDialler;
      const [keep, drop] = keepExisting ? [existing, link] : [link, existing];
      this.#links.set(keep.nodeId, keep);
      drop.close(new TesseraError('MESH_DUPLICATE_LINK', 'a link to this peer already exists'));
      if (keep === existing) return;
      this.#wire(link);
      this.#emit('peer-updated', this.#summary(link));
      return;
    }
    this.#links.set(link.nodeId, link);
    this.#wire(link);
    this.#emit('peer-joined', this.#summary(link));
  }

  #wire(link: PeerLink): void {
    link.onMessage((message) => this.#onMessage(link, message));
    link.onClose((error) => this.#onLinkClosed(link, error));
    if (this.#ownDevice) {
      try {
        link.send({ type: 'device', report: this.#ownDevice });
      } catch {
        // closed already; handled by onClose
      }
    }
    this.#every(this.#config.topologyIntervalMs ?? TOPOLOGY_BROADCAST_MS, () => this.#broadcastTopology(), link);
    const probeInterval = this.#config.bandwidthProbeIntervalMs ?? BANDWIDTH_PROBE_INTERVAL_MS;
    if (probeInterval > 0) {
      const probe = () => void this.measureBandwidth(link.nodeId).catch(() => {});
      this.#after(0, probe, link);
      this.#every(probeInterval, probe, link);
    }
  }

  #onLinkClosed(link: PeerLink, error: TesseraError): void {
    if (this.#links.get(link.nodeId) !== link) return; // a dropped duplicate
    this.#links.delete(link.nodeId);
    this.#devices.delete(link.nodeId);
    this.#reportedLinks.delete(link.nodeId);
    this.#emit('peer-left', { nodeId: link.nodeId, name: link.hello.name, error });
    for (const peer of this.#manual.values()) {
      if (peer.nodeId === link.nodeId) this.#scheduleRedial(peer);
    }
  }

  #onMessage(link: PeerLink, message: MeshMessage): void {
    if (this.#links.get(link.nodeId) !== link) return;
    if (message.type === 'device') {
      this.#devices.set(link.nodeId, message.report);
      this.#emit('peer-updated', this.#summary(link));
    } else if (message.type === 'topology') {
      this.#reportedLinks.set(link.nodeId, message.links);
      this.#emit('peer-updated', this.#summary(link));
    }
    this.#emit('message', { from: link.nodeId, message });
  }

  #ownLinks(): MeshLinkReport[] {
    const links: MeshLinkReport[] = [];
    for (const link of this.#links.values()) {
      if (link.rttMs === undefined) continue;
      links.push({
        from: this.nodeId,
        to: link.nodeId,
        rttMs: link.rttMs,
        bandwidthBytesPerSecond: link.bandwidthBytesPerSecond ?? null,
        measuredAt: link.rttMeasuredAt ?? Date.now(),
      });
    }
    return links;
  }

  #broadcastTopology(): void {
    this.broadcast({ type: 'topology', links: this.#ownLinks() });
  }

  #summary(link: PeerLink): PeerSummary {
    return {
      nodeId: link.nodeId,
      name: this.#devices.get(link.nodeId)?.name ?? link.hello.name,
      address: link.remoteAddress,
      meshPort: link.hello.meshPort,
      dialled: link.initiator,
      connectedAt: link.connectedAt,
      rttMs: link.rttMs ?? null,
      bandwidthBytesPerSecond: link.bandwidthBytesPerSecond ?? null,
      device: this.#devices.get(link.nodeId) ?? null,
    };
  }

  /** Runs `task` every `ms` while `link` is the live link (and the mesh runs). */
  #every(ms: number, task: () => void, link: PeerLink): void {
    const timer = setInterval(() => {
      if (this.#stopped || link.closed) {
        clearInterval(timer);
        this.#timers.delete(timer);
        return;
      }
      task();
    }, ms);
    this.#timers.add(timer);
    link.onClose(() => {
      clearInterval(timer);
      this.#timers.delete(timer);
    });
  }

  #after(ms: number, task: () => void, link: PeerLink): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#stopped && !link.closed) task();
    }, ms);
    this.#timers.add(timer);
  }

  #emit<E extends keyof MeshEvents>(event: E, payload: MeshEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as Listener<E>)(payload);
      } catch (error) {
        console.error(`tessera: mesh ${event} listener failed:`, error);
      }
    }
  }
}
