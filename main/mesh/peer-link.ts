// A live link to one peer over a NoiseChannel: the hello exchange (protocol version, node id bound
// to the Noise key), heartbeats that measure round-trip time and declare a silent peer gone, and
// bandwidth probes. Everything else that arrives is handed to the mesh as a typed message.
import { randomUUID } from 'node:crypto';
import { TesseraError } from '../../shared/errors.js';
import {
  MESH_PROTOCOL_VERSION,
  MeshFrameError,
  assertNeverMessage,
  decodeMeshMessage,
  encodeMeshMessage,
  peekHelloVersion,
  type MeshMessage,
  type MeshMessageOf,
} from '../../shared/mesh-protocol.js';
import type { NoiseChannel } from './noise-channel.js';

/** Default interval between heartbeat pings. */
export const PEER_HEARTBEAT_MS = 1_000;
/** Default silence after which a peer is declared gone (a few missed heartbeats). */
export const PEER_TIMEOUT_MS = 4_000;
/** Default time a fresh link may take to send its hello. */
export const HELLO_TIMEOUT_MS = 5_000;
/** Default size of a bandwidth probe (256 KiB: big enough to dominate latency on a LAN). */
export const BANDWIDTH_PROBE_BYTES = 256 * 1024;
/** Weight of the newest RTT sample in the moving average. */
const RTT_SMOOTHING = 0.25;

export type Hello = MeshMessageOf<'hello'>;

export interface PeerLinkOptions {
  /** Our own hello fields. */
  nodeId: string;
  name: string;
  meshPort: number;
  /** Optional abilities to announce in our hello (MESH_FEATURES). */
  features?: readonly string[];
  heartbeatIntervalMs?: number;
  peerTimeoutMs?: number;
  helloTimeoutMs?: number;
}

/** Sub-millisecond wall clock: loopback round trips are well under 1 ms. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export class PeerLink {
  readonly #channel: NoiseChannel;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #peerTimeoutMs: number;
  #pingSeq = 0;
  readonly #probes = new Map<string, { acknowledge: (bytes: number) => void; fail: (error: TesseraError) => void }>();
  #messageListener: ((message: MeshMessage) => void) | undefined;

  readonly connectedAt = Date.now();
  lastSeenAt = preciseNow();
  /** Moving average of heartbeat round trips, ms; undefined until the first pong. */
  rttMs: number | undefined;
  /** Last probe measurement, bytes/s; undefined until measured. */
  bandwidthBytesPerSecond: number | undefined;
  rttMeasuredAt: number | undefined;

  private constructor(channel: NoiseChannel, readonly hello: Hello, options: PeerLinkOptions) {
    this.#channel = channel;
    this.#peerTimeoutMs = options.peerTimeoutMs ?? PEER_TIMEOUT_MS;
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatIntervalMs ?? PEER_HEARTBEAT_MS);
    channel.onFrame((frame) => this.#onFrame(frame));
    channel.onClose((error) => this.#stopTimers(error));
  }

  /**
   * Sends our hello and waits for the peer's. Refuses (closing the channel) a peer speaking
   * another protocol version (MESH_PROTOCOL_MISMATCH, after telling it so) or claiming a node id
   * its key does not give (MESH_AUTH_FAILED).
   */
  static establish(channel: NoiseChannel, options: PeerLinkOptions): Promise<PeerLink> {
    return new Promise<PeerLink>((resolve, reject) => {
      let settled = false;
      const refuse = (error: TesseraError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        channel.close(error);
        reject(error);
      };
      const timeoutMs = options.helloTimeoutMs ?? HELLO_TIMEOUT_MS;
      const timer = setTimeout(() => refuse(new TesseraError('MESH_HANDSHAKE_TIMEOUT', `no hello within ${timeoutMs} ms`)), timeoutMs);
      channel.onClose((error) => refuse(error));
      channel.onFrame((frame) => {
        if (settled) return;
        const version = peekHelloVersion(frame);
        if (version === undefined) return refuse(new TesseraError('MESH_FRAME_INVALID', 'the first message on a link must be a hello'));
        if (version !== MESH_PROTOCOL_VERSION) {
          const error = new TesseraError(
            'MESH_PROTOCOL_MISMATCH',
            `mesh protocol mismatch: this node speaks v${MESH_PROTOCOL_VERSION}, the peer v${version}; run the same Tessera version on both`,
          );
          trySend(channel, { type: 'error', code: error.code, message: error.message });
          return refuse(error);
        }
        let hello: MeshMessage;
        try {
          hello = decodeMeshMessage(frame);
        } catch (error) {
          return refuse(new TesseraError('MESH_FRAME_INVALID', `bad hello: ${(error as Error).message}`, { cause: error }));
        }
        if (hello.type !== 'hello') return refuse(new TesseraError('MESH_FRAME_INVALID', 'expected a hello'));
        if (hello.nodeId !== channel.remoteNodeId) {
          return refuse(new TesseraError('MESH_AUTH_FAILED', 'peer claims a node id that does not belong to its key'));
        }
        settled = true;
        clearTimeout(timer);
        resolve(new PeerLink(channel, hello, options));
      });
      trySend(channel, {
        type: 'hello',
        protocolVersion: MESH_PROTOCOL_VERSION,
        nodeId: options.nodeId,
        name: options.name,
        meshPort: options.meshPort,
        ...(options.features === undefined ? {} : { features: [...options.features] }),
      });
    });
  }

  /** Whether the peer announced an optional ability (MESH_FEATURES) in its hello. */
  supports(feature: string): boolean {
    return this.hello.features?.includes(feature) ?? false;
  }

  /** Bytes sent on this link but not yet handed to the OS (for backpressure). */
  get bufferedBytes(): number {
    return this.#channel.bufferedBytes;
  }

  get nodeId(): string {
    return this.hello.nodeId;
  }

  get initiator(): boolean {
    return this.#channel.initiator;
  }

  get closed(): boolean {
    return this.#channel.closed;
  }

  get remoteAddress(): string | undefined {
    return this.#channel.remoteAddress;
  }

  /** Sends one message; throws MESH_STOPPED when the link is closed. */
  send(message: MeshMessage): void {
    let frame: Uint8Array;
    try {
      frame = encodeMeshMessage(message);
    } catch (error) {
      throw new TesseraError('MESH_FRAME_INVALID', (error as Error).message, { cause: error });
    }
    this.#channel.send(frame);
  }

  onMessage(listener: (message: MeshMessage) => void): void {
    this.#messageListener = listener;
  }

  onClose(listener: (error: TesseraError) => void): void {
    this.#channel.onClose(listener);
  }

  close(error: TesseraError, immediately = false): void {
    this.#channel.close(error, immediately);
  }

  /**
   * Sends `bytes` of filler and times the acknowledgement: bandwidth ≈ bytes / (elapsed − RTT).
   * Rejects with PEER_UNREACHABLE when no answer comes within the peer timeout.
   */
  measureBandwidth(bytes = BANDWIDTH_PROBE_BYTES): Promise<number> {
    const probeId = randomUUID();
    const started = preciseNow();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#probes.delete(probeId);
        reject(new TesseraError('PEER_UNREACHABLE', 'bandwidth probe was not answered'));
      }, this.#peerTimeoutMs);
      this.#probes.set(probeId, {
        acknowledge: (acknowledged) => {
          clearTimeout(timer);
          const seconds = Math.max(preciseNow() - started - (this.rttMs ?? 0), 0.01) / 1000;
          this.bandwidthBytesPerSecond = acknowledged / seconds;
          resolve(this.bandwidthBytesPerSecond);
        },
        fail: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      try {
        this.send({ type: 'probe', probeId, data: new Uint8Array(bytes) });
      } catch (error) {
        clearTimeout(timer);
        this.#probes.delete(probeId);
        reject(error);
      }
    });
  }

  #beat(): void {
    if (preciseNow() - this.lastSeenAt > this.#peerTimeoutMs) {
      // The peer is silent: no close handshake, it would not answer one either.
      this.close(new TesseraError('PEER_UNREACHABLE', `no message from the peer for ${this.#peerTimeoutMs} ms`), true);
      return;
    }
    trySend(this.#channel, { type: 'ping', seq: this.#pingSeq++, sentAt: preciseNow() });
  }

  #onFrame(frame: Uint8Array): void {
    let message: MeshMessage;
    try {
      message = decodeMeshMessage(frame);
    } catch (error) {
      const reason = error instanceof MeshFrameError ? error.message : String(error);
      this.close(new TesseraError('MESH_FRAME_INVALID', reason, { cause: error }));
      return;
    }
    this.lastSeenAt = preciseNow();
    this.#handle(message);
  }

  #handle(message: MeshMessage): void {
    switch (message.type) {
      case 'ping':
        trySend(this.#channel, { type: 'pong', seq: message.seq, sentAt: message.sentAt, repliedAt: preciseNow() });
        return;
      case 'pong': {
        const sample = Math.max(0, preciseNow() - message.sentAt);
        this.rttMs = this.rttMs === undefined ? sample : this.rttMs + RTT_SMOOTHING * (sample - this.rttMs);
        this.rttMeasuredAt = Date.now();
        return;
      }
      case 'probe':
        trySend(this.#channel, { type: 'probe-ack', probeId: message.probeId, bytes: message.data.byteLength });
        return;
      case 'probe-ack': {
        const probe = this.#probes.get(message.probeId);
        this.#probes.delete(message.probeId);
        probe?.acknowledge(message.bytes);
        return;
      }
      case 'hello':
        this.close(new TesseraError('MESH_FRAME_INVALID', 'hello sent twice on one link'));
        return;
      case 'device':
      case 'topology':
      case 'plan':
      case 'shard-load':
      case 'shard-unload':
      case 'model-announce':
      case 'model-withdraw':
      case 'generate':
      case 'generate-event':
      case 'generate-cancel':
      case 'shard-status':
      case 'tokens':
      case 'error':
      case 'tensor':
      case 'model-file-info':
      case 'model-file-read':
      case 'model-file-found':
      case 'model-file-missing':
      case 'model-file-data':
        this.#messageListener?.(message);
        return;
      default:
        assertNeverMessage(message);
    }
  }

  #stopTimers(error: TesseraError): void {
    clearInterval(this.#heartbeat);
    for (const probe of this.#probes.values()) probe.fail(error);
    this.#probes.clear();
  }
}

function trySend(channel: NoiseChannel, message: MeshMessage): void {
  if (channel.closed) return;
  try {
    channel.send(encodeMeshMessage(message));
  } catch {
    // the channel closed under us; its close listener reports why
  }
}
