// Model files from a peer: a node that lacks a file another node already holds fetches it over
// the cluster's link rather than the internet, hash-checked like a hub download (the downloader
// verifies the whole file's sha256; the serving node only hands out files whose hash it checked
// when it got them). The protocol is request/reply over any message channel (`PeerChannel`); the
// mesh carries these messages as its own types (shared/mesh-protocol.ts, main/mesh/peer-files.ts).
//
// Each piece of a read carries the sha256 of its bytes as the server read them from its disk, and
// the reader checks it before passing the piece on: so a per-shard fetch (which cannot check the
// whole file's hash) is still checked byte for byte against the serving node's copy.

import { open } from 'node:fs/promises';
import { createHash, randomUUID } from 'node:crypto';
import { TesseraError } from '../../shared/errors.js';
import type { MeshMessageOf } from '../../shared/mesh-protocol.js';
import type { RangeSource } from './range-source.js';

/** Bytes per data message: well under the mesh's MAX_FRAME_BYTES. */
export const PEER_CHUNK_BYTES = 4 * 1024 * 1024;
/** A peer that says nothing for this long is given up on (the hub is the fallback). */
export const PEER_REPLY_TIMEOUT_MS = 15_000;

/** The wire messages (shared/mesh-protocol.ts): the transfer speaks exactly what the mesh carries. */
export type ModelFileRequest = MeshMessageOf<'model-file-info'> | MeshMessageOf<'model-file-read'>;
export type ModelFileReply = MeshMessageOf<'model-file-found'> | MeshMessageOf<'model-file-data'> | MeshMessageOf<'model-file-missing'>;

/** One direction of a link to one peer, as the transfer needs it. */
export interface PeerChannel<Out, In> {
  send(message: Out): void;
  onMessage(listener: (message: In) => void): () => void;
  /** Resolves when the link can take more bytes (backpressure); absent: always. */
  waitForCapacity?(): Promise<void>;
}

/** Where a serving node finds the files it may hand out (a ModelStore, or files of its plans). */
export interface ModelFileLookup {
  fileWithHash(name: string): Promise<{ path: string; sizeBytes: number; sha256: string } | undefined>;
}

/** Answers a peer's requests for files in `files`. Returns a function that stops answering. */
export function serveModelFiles(files: ModelFileLookup, channel: PeerChannel<ModelFileReply, ModelFileRequest>): () => void {
  return channel.onMessage((request) => {
    void answer(files, channel, request).catch((error: unknown) => {
      try {
        channel.send({ type: 'model-file-missing', requestId: request.requestId, message: (error instanceof Error ? error.message : String(error)).slice(0, 4000) });
      } catch {
        // the asking peer is gone
      }
    });
  });
}

async function answer(files: ModelFileLookup, channel: PeerChannel<ModelFileReply, ModelFileRequest>, request: ModelFileRequest): Promise<void> {
  const file = await files.fileWithHash(request.name);
  if (!file) return channel.send({ type: 'model-file-missing', requestId: request.requestId, message: `no verified file ${request.name}` });
  if (request.type === 'model-file-info') {
    return channel.send({ type: 'model-file-found', requestId: request.requestId, sizeBytes: file.sizeBytes, sha256: file.sha256 });
  }
  const start = Math.max(0, request.start);
  const end = Math.min(file.sizeBytes, request.end);
  const handle = await open(file.path, 'r');
  try {
    let at = start;
    do {
      await channel.waitForCapacity?.();
      const length = Math.max(0, Math.min(PEER_CHUNK_BYTES, end - at));
      const data = new Uint8Array(length);
      const { bytesRead } = length === 0 ? { bytesRead: 0 } : await handle.read(data, 0, length, at);
      at += bytesRead;
      const piece = data.subarray(0, bytesRead);
      const last = at >= end || bytesRead === 0;
      channel.send({ type: 'model-file-data', requestId: request.requestId, data: piece, last, sha256: createHash('sha256').update(piece).digest('hex') });
      if (last) break;
    } while (at < end);
  } finally {
    await handle.close();
  }
}

/** Asks a peer for a file; a RangeSource reading it from that peer, or undefined when it lacks it. */
export async function peerFileSource(
  channel: PeerChannel<ModelFileRequest, ModelFileReply>,
  name: string,
  peerLabel: string,
  timeoutMs = PEER_REPLY_TIMEOUT_MS,
): Promise<RangeSource | undefined> {
  const requestId = randomUUID();
  const reply = await new Promise<ModelFileReply | undefined>((resolve) => {
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    const stop = channel.onMessage((message) => message.requestId === requestId && finish(message));
    function finish(message: ModelFileReply | undefined): void {
      clearTimeout(timer);
      stop();
      resolve(message);
    }
    channel.send({ type: 'model-file-info', requestId, name });
  });
  if (reply?.type !== 'model-file-found') return undefined;
  return {
    description: `peer ${peerLabel} ${name}`,
    sizeBytes: reply.sizeBytes,
    sha256: reply.sha256,
    read: (start, end, signal) => readFromPeer(channel, name, start, end, timeoutMs, signal),
  };
}

async function* readFromPeer(
  channel: PeerChannel<ModelFileRequest, ModelFileReply>,
  name: string,
  start: number,
  end: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const requestId = randomUUID();
  const queue: ModelFileReply[] = [];
  let wake: (() => void) | undefined;
  const stop = channel.onMessage((message) => {
    if (message.requestId !== requestId) return;
    queue.push(message);
    wake?.();
  });
  try {
    channel.send({ type: 'model-file-read', requestId, name, start, end });
    for (;;) {
      while (queue.length === 0) {
        if (signal?.aborted) throw new TesseraError('DOWNLOAD_ABORTED', 'the download was stopped');
        const arrived = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (!arrived) throw new TesseraError('PEER_TRANSFER_FAILED', `the peer stopped sending ${name}`);
      }
      const message = queue.shift()!;
      if (message.type === 'model-file-missing') throw new TesseraError('PEER_TRANSFER_FAILED', `the peer cannot send ${name}: ${message.message}`);
      if (message.type !== 'model-file-data') continue;
      // A piece must be what the peer read from its disk before anything downstream sees it.
      if (message.sha256 !== undefined && message.sha256 !== createHash('sha256').update(message.data).digest('hex')) {
        throw new TesseraError('PEER_TRANSFER_FAILED', `a piece of ${name} (bytes ${start}-${end}) from the peer failed its sha256 check`);
      }
      if (message.data.byteLength > 0) yield message.data;
      if (message.last) return;
    }
  } finally {
    stop();
  }
}
