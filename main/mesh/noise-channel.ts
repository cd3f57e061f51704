// One authenticated, encrypted channel over one WebSocket: the Noise XXpsk0 handshake (the PSK is
// derived from the cluster's join secret, the static keys are the nodes' identities), then every
// frame sealed with the transport ciphers. Noise comes from the `noise-handshake` package; this
// file only moves its messages over the socket and enforces our limits and timeouts.
//
// Why XXpsk0: psk0 mixes the join secret in before the first message, so a responder rejects a
// wrong secret on message 1 without revealing anything; XX sends both static keys encrypted, so
// each side learns the other's key (hence its node id) and proves it holds the private half.
// Fresh ephemeral keys on both sides make a recorded handshake useless when replayed.
import { createRequire } from 'node:module';
import type { RawData, WebSocket } from 'ws';
import { TesseraError } from '../../shared/errors.js';
import { closeCodeFor, closeReasonFor, errorFromClose } from './close-codes.js';
import { openFrame, sealFrame, type NoiseCipher } from './frames.js';
import { nodeIdFromPublicKey, type StaticKeyPair } from './keys.js';

export const NOISE_PATTERN = 'XXpsk0';
/** Bound into the handshake hash: a handshake meant for another protocol cannot complete here. */
export const NOISE_PROLOGUE = Buffer.from('tessera-mesh');
/** Handshake messages are 48, 96 and 64 bytes (empty payloads); anything far bigger is hostile. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 256;
/** Default time allowed for the whole handshake. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** How long a closing link waits for the peer's close frame before dropping the socket. */
export const CLOSE_GRACE_MS = 500;

interface NoiseHandshake {
  rs: Buffer | null;
  tx: Buffer | null;
  rx: Buffer | null;
  complete: boolean;
  initialise(prologue: Uint8Array, remoteStatic?: Uint8Array): void;
  send(payload?: Uint8Array): Buffer;
  recv(message: Uint8Array): Buffer;
}
type NoiseConstructor = new (
  pattern: string,
  initiator: boolean,
  staticKeyPair: StaticKeyPair,
  options: { psk: Uint8Array },
) => NoiseHandshake;
type CipherConstructor = new (key: Uint8Array) => NoiseCipher;

const require = createRequire(import.meta.url);
const Noise = require('noise-handshake') as NoiseConstructor;
const Cipher = require('noise-handshake/cipher.js') as CipherConstructor;

export interface NoiseChannelOptions {
  staticKeyPair: StaticKeyPair;
  /** 32 bytes, from derivePresharedKey(joinSecret). */
  psk: Uint8Array;
  handshakeTimeoutMs?: number;
}

type FrameListener = (frame: Uint8Array) => void;
type CloseListener = (error: TesseraError) => void;

export class NoiseChannel {
  readonly #socket: WebSocket;
  readonly #send: NoiseCipher;
  readonly #receive: NoiseCipher;
  #frameListener: FrameListener | undefined;
  readonly #queued: Uint8Array[] = [];
  readonly #closeListeners = new Set<CloseListener>();
  #closed: TesseraError | undefined;

  /** The peer's node id, bound to the static key it proved it holds. */
  readonly remoteNodeId: string;

  private constructor(
    socket: WebSocket,
    handshake: NoiseHandshake,
    readonly initiator: boolean,
    pending: RawData[],
  ) {
    this.#socket = socket;
    this.#send = new Cipher(handshake.tx!);
    this.#receive = new Cipher(handshake.rx!);
    this.remoteStaticKey = Buffer.from(handshake.rs!);
    this.remoteNodeId = nodeIdFromPublicKey(this.remoteStaticKey);
    socket.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on('close', (code, reason) => this.#finish(errorFromClose(code, reason.toString())));
    for (const data of pending) this.#onMessage(data, true);
  }

  readonly remoteStaticKey: Buffer;

  /** Dials side: runs the handshake on an open (or opening) client socket. */
  static initiate(socket: WebSocket, options: NoiseChannelOptions): Promise<NoiseChannel> {
    return runHandshake(socket, true, options);
  }

  /** Listening side: runs the handshake on a socket the server just accepted. */
  static accept(socket: WebSocket, options: NoiseChannelOptions): Promise<NoiseChannel> {
    return runHandshake(socket, false, options);
  }

  /** @internal used by runHandshake once both sides hold transport keys */
  static fromHandshake(socket: WebSocket, handshake: NoiseHandshake, initiator: boolean, pending: RawData[]): NoiseChannel {
    return new NoiseChannel(socket, handshake, initiator, pending);
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Remote address as the socket sees it (for logs and the UI). */
  get remoteAddress(): string | undefined {
    const raw = (this.#socket as unknown as { _socket?: { remoteAddress?: string } })._socket;
    return raw?.remoteAddress;
  }

  /** Bytes queued in the socket but not yet handed to the OS (for backpressure). */
  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  /** Encrypts and sends one plaintext frame. Throws MESH_STOPPED after close. */
  send(frame: Uint8Array): void {
    if (this.#closed) throw new TesseraError('MESH_STOPPED', `link is closed: ${this.#closed.message}`);
    this.#socket.send(sealFrame(this.#send, frame));
  }

  /** Frames that arrived before a listener was set are delivered to it at once. */
  onFrame(listener: FrameListener): void {
    this.#frameListener = listener;
    while (this.#queued.length > 0 && this.#frameListener === listener && !this.#closed) listener(this.#queued.shift()!);
  }

  /** Called once, with why the channel ended (ours or the peer's reason). */
  onClose(listener: CloseListener): void {
    if (this.#closed) listener(this.#closed);
    else this.#closeListeners.add(listener);
  }

  /** Closes with `error`'s close code; `immediately` drops the socket without a closing handshake. */
  close(error: TesseraError, immediately = false): void {
    if (this.#closed) return;
    this.#finish(error);
    closeSocket(this.#socket, error, immediately);
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    let frame: Uint8Array;
    try {
      if (!isBinary || !Buffer.isBuffer(data)) throw new TesseraError('MESH_FRAME_INVALID', 'mesh frames are binary');
      frame = openFrame(this.#receive, data);
    } catch (error) {
      this.close(asTesseraError(error, 'MESH_FRAME_INVALID'));
      return;
    }
    if (this.#frameListener) this.#frameListener(frame);
    else this.#queued.push(frame);
  }

  #finish(error: TesseraError): void {
    if (this.#closed) return;
    this.#closed = error;
    this.#queued.length = 0;
    for (const listener of this.#closeListeners) listener(error);
    this.#closeListeners.clear();
  }
}

function runHandshake(socket: WebSocket, initiator: boolean, options: NoiseChannelOptions): Promise<NoiseChannel> {
  const handshake = new Noise(NOISE_PATTERN, initiator, options.staticKeyPair, { psk: options.psk });
  handshake.initialise(NOISE_PROLOGUE);
  const timeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;

  return new Promise<NoiseChannel>((resolve, reject) => {
    const pending: RawData[] = []; // frames that arrive in the same tick as the last handshake message
    let done = false;
    const fail = (error: TesseraError, immediately = false) => {
      if (done) return;
      done = true;
      cleanup();
      closeSocket(socket, error, immediately);
      reject(error);
    };
    const succeed = () => {
      done = true;
      cleanup();
      resolve(NoiseChannel.fromHandshake(socket, handshake, initiator, pending));
    };
    const step = (data: RawData, isBinary: boolean) => {
      if (done) return void pending.push(data);
      if (!isBinary || !Buffer.isBuffer(data) || data.byteLength > MAX_HANDSHAKE_MESSAGE_BYTES) {
        return fail(new TesseraError('MESH_FRAME_INVALID', 'malformed handshake message'));
      }
      try {
        handshake.recv(data);
        if (!handshake.complete) socket.send(handshake.send());
      } catch (error) {
        // A wrong PSK, a replayed message (its keys no longer match our fresh ephemeral key) and
        // garbage all fail here the same way: authentication failed.
        return fail(new TesseraError('MESH_AUTH_FAILED', 'handshake failed: wrong join secret or replayed handshake', { cause: error }));
      }
      if (handshake.complete) succeed();
    };
    const onClose = (code: number, reason: Buffer) => fail(errorFromClose(code, reason.toString()), true);
    const onError = (error: Error) => fail(new TesseraError('PEER_UNREACHABLE', `cannot reach peer: ${error.message}`, { cause: error }), true);
    const onOpen = () => {
      if (initiator) socket.send(handshake.send());
    };
    const timer = setTimeout(
      () => fail(new TesseraError('MESH_HANDSHAKE_TIMEOUT', `handshake did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function cleanup() {
      clearTimeout(timer);
      socket.off('message', step);
      socket.off('close', onClose);
      socket.off('open', onOpen);
      // the 'error' listener stays: ws emits errors after close too, and an unheard one would crash the process
    }
    socket.on('message', step);
    socket.on('close', onClose);
    socket.on('error', onError);
    if (socket.readyState === socket.OPEN) onOpen();
    else socket.on('open', onOpen);
  });
}

function closeSocket(socket: WebSocket, error: TesseraError, immediately: boolean): void {
  if (socket.readyState === socket.CLOSED) return;
  if (immediately || socket.readyState !== socket.OPEN) {
    socket.terminate();
    return;
  }
  socket.close(closeCodeFor(error), closeReasonFor(error));
  // A peer that never answers our close frame must not hold the socket (or the process) open.
  const timer = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

export function asTesseraError(error: unknown, fallback: 'MESH_FRAME_INVALID' | 'PEER_UNREACHABLE'): TesseraError {
  if (error instanceof TesseraError) return error;
  return new TesseraError(fallback, error instanceof Error ? error.message : String(error), { cause: error });
}
