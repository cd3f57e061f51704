// Model files over the mesh: the model store's peer transfer (main/models/peer-transfer.ts) run on
// mesh links. A node answers every peer's file requests from what it may hand out (its store's
// verified files, the files of the plans it leads), and a node that lacks a file asks its peers
// before the hub. Requests go only to peers that announced MESH_FEATURES.modelFiles.
import { setTimeout as sleep } from 'node:timers/promises';
import { TesseraError } from '../../shared/errors.js';
import { MESH_FEATURES, type MeshMessage } from '../../shared/mesh-protocol.js';
import { parseSplitPath, splitPartPaths } from '../engine/gguf/split-model.js';
import { downloadShard, type ShardDownloadResult } from '../models/shard-file.js';
import {
  peerFileSource,
  serveModelFiles,
  type ModelFileLookup,
  type ModelFileReply,
  type ModelFileRequest,
  type PeerChannel,
} from '../models/peer-transfer.js';
import type { RangeSource } from '../models/range-source.js';
import type { MeshEvents } from './mesh.js';

/** A serving node stops reading its file while this many bytes wait in the link's socket. */
export const PEER_FILE_BUFFERED_LIMIT_BYTES = 16 * 1024 * 1024;
/** How long a node waits for its peers to say whether they hold a file before asking the hub. */
export const PEER_FILE_INFO_TIMEOUT_MS = 5_000;
/** How often a sender blocked by backpressure looks at the link again. */
const CAPACITY_POLL_MS = 2;

/** The part of Mesh the file transfer uses (a Mesh, or a test's). */
export interface PeerFilesMesh {
  readonly nodeId: string;
  send(nodeId: string, message: MeshMessage): void;
  on<E extends 'message' | 'peer-left'>(event: E, listener: (payload: MeshEvents[E]) => void): () => void;
  peers(): ReadonlyArray<{ nodeId: string }>;
  peerSupports(nodeId: string, feature: string): boolean;
  bufferedBytes(nodeId: string): number;
}

function isReply(message: MeshMessage): message is ModelFileReply {
  return message.type === 'model-file-found' || message.type === 'model-file-missing' || message.type === 'model-file-data';
}

function isRequest(message: MeshMessage): message is ModelFileRequest {
  return message.type === 'model-file-info' || message.type === 'model-file-read';
}

/** The asking side of a link to `nodeId`: requests out, that peer's replies in. */
export function meshFileChannel(mesh: PeerFilesMesh, nodeId: string): PeerChannel<ModelFileRequest, ModelFileReply> {
  return {
    send: (message) => mesh.send(nodeId, message),
    onMessage: (listener) => mesh.on('message', ({ from, message }) => from === nodeId && isReply(message) && listener(message)),
  };
}

/**
 * Answers every peer's file requests from `files`, one channel per peer (so replies go back to
 * the asker and a slow link holds back only its own reads). Returns a function that stops.
 */
export function serveFilesOverMesh(mesh: PeerFilesMesh, files: ModelFileLookup): () => void {
  const perPeer = new Map<string, { deliver: (request: ModelFileRequest) => void; stop: () => void }>();
  const channelFor = (nodeId: string) => {
    let entry = perPeer.get(nodeId);
    if (entry !== undefined) return entry;
    let listener: ((request: ModelFileRequest) => void) | undefined;
    const channel: PeerChannel<ModelFileReply, ModelFileRequest> = {
      send: (message) => mesh.send(nodeId, message),
      onMessage: (next) => {
        listener = next;
        return () => (listener = undefined);
      },
      waitForCapacity: async () => {
        while (mesh.bufferedBytes(nodeId) > PEER_FILE_BUFFERED_LIMIT_BYTES) await sleep(CAPACITY_POLL_MS);
      },
    };
    const stop = serveModelFiles(files, channel);
    entry = { deliver: (request) => listener?.(request), stop };
    perPeer.set(nodeId, entry);
    return entry;
  };
  const offMessage = mesh.on('message', ({ from, message }) => {
    if (isRequest(message)) channelFor(from).deliver(message);
  });
  const offLeft = mesh.on('peer-left', ({ nodeId }) => {
    perPeer.get(nodeId)?.stop();
    perPeer.delete(nodeId);
  });
  return () => {
    offMessage();
    offLeft();
    for (const entry of perPeer.values()) entry.stop();
    perPeer.clear();
  };
}

/** Asks `nodeId` for a file; a RangeSource reading it from that peer, or undefined when it lacks it. */
export function peerFile(mesh: PeerFilesMesh, nodeId: string, name: string, timeoutMs = PEER_FILE_INFO_TIMEOUT_MS): Promise<RangeSource | undefined> {
  if (!mesh.peerSupports(nodeId, MESH_FEATURES.modelFiles)) return Promise.resolve(undefined);
  return peerFileSource(meshFileChannel(mesh, nodeId), name, nodeId.slice(0, 12), timeoutMs).catch(() => undefined);
}

/**
 * Asks every connected peer at once whether it holds `name`; the first that does is the source.
 * Undefined when none does (the caller falls back to the hub).
 */
export async function findPeerFile(mesh: PeerFilesMesh, name: string, timeoutMs = PEER_FILE_INFO_TIMEOUT_MS): Promise<RangeSource | undefined> {
  const asked = mesh.peers().map((peer) => peerFile(mesh, peer.nodeId, name, timeoutMs));
  if (asked.length === 0) return undefined;
  return new Promise<RangeSource | undefined>((resolve) => {
    let left = asked.length;
    for (const answer of asked) {
      void answer.then((source) => {
        left--;
        if (source !== undefined) resolve(source);
        else if (left === 0) resolve(undefined);
      });
    }
  });
}

/**
 * Fetches layers [start, end) of `name` from `nodeId` (the tensors of those layers, plus the
 * embeddings or output head where the range needs them) and writes them as a per-shard GGUF at
 * `destination`. Every piece is checked against the peer's copy (see peer-transfer.ts). `name`
 * may be any part of a split model: the tensors come from whichever parts hold them.
 * Throws MODEL_NOT_FOUND when the peer does not hold the file (or one of the parts).
 */
export async function fetchShardFromPeer(
  mesh: PeerFilesMesh,
  nodeId: string,
  name: string,
  layers: readonly [number, number],
  destination: string,
  signal?: AbortSignal,
): Promise<ShardDownloadResult & { sha256: string | undefined }> {
  // A split model's layers may sit in any of its parts: the peer hands out each one.
  const split = parseSplitPath(name);
  const names = split === undefined ? [name] : splitPartPaths(split);
  const parts = await Promise.all(names.map((part) => peerFile(mesh, nodeId, part)));
  const missing = names.filter((_, index) => parts[index] === undefined);
  if (missing.length > 0) throw new TesseraError('MODEL_NOT_FOUND', `node ${nodeId.slice(0, 12)} does not hand out ${missing.join(', ')}`);
  const sources = parts as RangeSource[];
  const source = sources[0]!;
  const result = await downloadShard({
    source,
    ...(sources.length > 1 ? { parts: sources } : {}),
    destination,
    layers,
    sourceFile: name,
    // A failed piece is fetched once more, then the load fails with a clear error.
    retry: { retries: 1, baseDelayMs: 100, maxDelayMs: 100 },
    ...(signal ? { signal } : {}),
  });
  return { ...result, sha256: sources.length === 1 ? source.sha256 : undefined };
}
