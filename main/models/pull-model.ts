// `pull`: from `owner/repo[:file]` to a verified model in the local store. Lists the repo's GGUF
// files, picks the one named (or the default quantization), checks free disk space, downloads each
// file of it (every part of a split GGUF) resumably, and records a manifest. With `layers`, only
// that layer range is fetched (from every part of a split model) and stored as one per-shard GGUF.
// A peer that already holds the file (or, per shard, a part) is asked first when a `peerSource` is
// given; the hub is the fallback.

import { stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { TesseraError } from '../../shared/errors.js';
import { ensureFreeSpace, type FreeSpaceProbe } from './disk-space.js';
import { downloadToFile, PARTIAL_SUFFIX } from './download-file.js';
import { listRepoFiles, openHubFile, type HubSettings } from './hub-client.js';
import { baseName, findModelByFile, groupModels, modelIdOf, pickDefaultModel, type ModelRef, type RepoFile, type RepoModel } from './model-ref.js';
import type { ManifestFile, ModelManifest, ModelStore } from './model-store.js';
import type { RangeSource } from './range-source.js';
import type { RetryPolicy } from './retry.js';
import { downloadShard, type ShardDownloadResult } from './shard-file.js';

export type PullEvent =
  /** The repo was listed and a model chosen (`candidates`: every GGUF model in the repo). */
  | { readonly type: 'resolved'; readonly model: RepoModel; readonly candidates: readonly RepoModel[] }
  /** Bytes on disk for the whole pull, across its files. */
  | { readonly type: 'progress'; readonly file: string; readonly receivedBytes: number; readonly totalBytes: number }
  | { readonly type: 'file-done'; readonly file: string; readonly resumedFromBytes: number; readonly source: string; readonly skipped: boolean };

/** Finds a peer that holds a file by name; undefined when none does. */
export type PeerSourceFinder = (fileName: string, signal?: AbortSignal) => Promise<RangeSource | undefined>;

export interface PullOptions {
  readonly ref: ModelRef;
  readonly store: ModelStore;
  readonly hub: HubSettings;
  /** Fetch only these layers [start, end) into a per-shard file. */
  readonly layers?: readonly [number, number];
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: PullEvent) => void;
  readonly freeSpace?: FreeSpaceProbe;
  readonly peerSource?: PeerSourceFinder;
  readonly retry?: RetryPolicy;
}

export interface PullResult {
  readonly manifest: ModelManifest;
  readonly paths: readonly string[];
  /** Bytes that crossed the network in this run. */
  readonly downloadedBytes: number;
}

export async function pullModel(pullOptions: PullOptions): Promise<PullResult> {
  let options = pullOptions;
  await mkdir(options.store.dir, { recursive: true });
  // A named file a peer already holds needs nothing from the hub, not even the listing.
  if (options.ref.file !== undefined && options.peerSource !== undefined && options.layers === undefined) {
    const fromPeer = await tryPeer(options, baseName(options.ref.file));
    if (fromPeer) return fromPeer;
    // That peer failed (missing, gone, or a bad copy): the hub alone from here.
    options = { ...options, peerSource: undefined };
  }
  const files = await listRepoFiles(options.ref.repo, options.hub);
  const candidates = groupModels(files);
  if (candidates.length === 0) throw new TesseraError('HUB_NOT_FOUND', `${options.ref.repo} has no GGUF files`);
  const model = options.ref.file === undefined ? pickDefaultModel(candidates) : findModelByFile(candidates, options.ref.file);
  if (!model) {
    throw new TesseraError(
      'HUB_NOT_FOUND',
      `${options.ref.repo} has no file ${options.ref.file}; it has: ${candidates.map((candidate) => baseName(candidate.files[0]!.path)).join(', ')}`,
    );
  }
  options.onEvent?.({ type: 'resolved', model, candidates });
  return options.layers === undefined ? pullWhole(options, model) : pullShard(options, model, options.layers);
}

async function pullWhole(options: PullOptions, model: RepoModel): Promise<PullResult> {
  const { store } = options;
  // Free space for what is still missing: partial files count as already here.
  let missing = 0;
  for (const file of model.files) missing += file.sizeBytes - (await sizeOf(store.pathOf(baseName(file.path)) + PARTIAL_SUFFIX));
  await ensureFreeSpace(store.dir, missing, options.freeSpace);

  const done: ManifestFile[] = [];
  const previous = await store.readManifest(model.id);
  let downloadedBytes = 0;
  let before = 0;
  for (const file of model.files) {
    const name = baseName(file.path);
    const destination = store.pathOf(name);
    const report = (received: number): void =>
      options.onEvent?.({ type: 'progress', file: name, receivedBytes: before + received, totalBytes: model.sizeBytes });
    const kept = await alreadyComplete(destination, file, previous);
    if (kept) {
      done.push(kept);
      report(file.sizeBytes);
      options.onEvent?.({ type: 'file-done', file: name, resumedFromBytes: file.sizeBytes, source: 'local', skipped: true });
    } else {
      const fromPeer = options.peerSource ? await fetchFromPeer(options, name, file, destination, report) : undefined;
      const result =
        fromPeer ??
        (await downloadToFile({
          source: await openHubFile(options.ref.repo, file, options.hub, options.signal),
          destination,
          onProgress: report,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.retry ? { retry: options.retry } : {}),
        }));
      downloadedBytes += result.sizeBytes - result.resumedFromBytes;
      done.push({ name, sizeBytes: result.sizeBytes, sha256: result.sha256, verified: result.verified });
      options.onEvent?.({ type: 'file-done', file: name, resumedFromBytes: result.resumedFromBytes, source: fromPeer ? 'peer' : 'hub', skipped: false });
    }
    before += file.sizeBytes;
  }
  const manifest: ModelManifest = { id: model.id, repo: options.ref.repo, files: done, createdAt: Date.now() };
  await store.writeManifest(manifest);
  return { manifest, paths: done.map((file) => store.pathOf(file.name)), downloadedBytes };
}

async function pullShard(options: PullOptions, model: RepoModel, layers: readonly [number, number]): Promise<PullResult> {
  // A split model's parts are read as one model: the shard is one file either way.
  const first = model.files[0]!;
  const id = `${model.id}.layers-${layers[0]}-${layers[1]}`;
  const destination = options.store.pathOf(`${id}.gguf`);
  // The shard is at most the whole model; the real figure is known only after the headers are read.
  const hubParts = await Promise.all(model.files.map((file) => openHubFile(options.ref.repo, file, options.hub, options.signal)));
  const download = (parts: readonly RangeSource[]): Promise<ShardDownloadResult> =>
    downloadShard({
      source: parts[0]!,
      ...(parts.length > 1 ? { parts } : {}),
      destination,
      layers,
      sourceFile: baseName(first.path),
      onProgress: (received, total) => options.onEvent?.({ type: 'progress', file: `${id}.gguf`, receivedBytes: received, totalBytes: total }),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
  const peerParts = options.peerSource ? await peerPartsOf(options, model, hubParts) : undefined;
  let result: ShardDownloadResult | undefined;
  if (peerParts !== undefined) {
    try {
      result = await download(peerParts);
    } catch (error) {
      if (error instanceof TesseraError && (error.code === 'DISK_FULL' || error.code === 'DOWNLOAD_ABORTED')) throw error;
      // Peer parts hold the hub's bytes (same hash), so the ranges fetched so far are kept and the hub goes on.
    }
  }
  const source = result === undefined ? 'hub' : 'peer';
  result ??= await download(hubParts);
  const sizeBytes = await sizeOf(destination);
  const manifest: ModelManifest = {
    id,
    repo: options.ref.repo,
    // A shard's bytes cannot be checked against the hub's whole-file hash: not `verified`.
    files: [{ name: `${id}.gguf`, sizeBytes, sha256: await hashOf(destination), verified: false }],
    shard: {
      layers: result.layers,
      sourceFile: baseName(first.path),
      ...(model.files.length === 1 && first.sha256 ? { sourceSha256: first.sha256 } : {}),
    },
    createdAt: Date.now(),
  };
  await options.store.writeManifest(manifest);
  options.onEvent?.({ type: 'file-done', file: `${id}.gguf`, resumedFromBytes: 0, source, skipped: false });
  return { manifest, paths: [destination], downloadedBytes: result.downloadedBytes };
}

/**
 * For a per-shard pull: each part of the model from a peer that holds the very file the hub has
 * (same size and sha256), else from the hub. Undefined when no peer holds any part. A peer's
 * every piece is checked against its copy (peer-transfer.ts), and its copy against the hub's hash.
 */
async function peerPartsOf(options: PullOptions, model: RepoModel, hubParts: readonly RangeSource[]): Promise<RangeSource[] | undefined> {
  const parts = await Promise.all(
    model.files.map(async (file, index) => {
      const peer = await options.peerSource!(baseName(file.path), options.signal).catch(() => undefined);
      const same = peer !== undefined && peer.sizeBytes === file.sizeBytes && file.sha256 !== undefined && peer.sha256 === file.sha256;
      return same ? peer : hubParts[index]!;
    }),
  );
  return parts.some((part, index) => part !== hubParts[index]) ? parts : undefined;
}

/** The whole pull of one named file from a peer; undefined (and the hub is asked) when that fails. */
async function tryPeer(options: PullOptions, name: string): Promise<PullResult | undefined> {
  const destination = options.store.pathOf(name);
  const report = (received: number, total: number): void => options.onEvent?.({ type: 'progress', file: name, receivedBytes: received, totalBytes: total });
  const source = await options.peerSource!(name, options.signal).catch(() => undefined);
  if (!source) return undefined;
  try {
    await ensureFreeSpace(options.store.dir, source.sizeBytes - (await sizeOf(destination + PARTIAL_SUFFIX)), options.freeSpace);
    const result = await downloadToFile({
      source,
      destination,
      onProgress: (received) => report(received, source.sizeBytes),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
    });
    const manifest: ModelManifest = {
      id: modelIdOf(name),
      repo: options.ref.repo,
      files: [{ name, sizeBytes: result.sizeBytes, sha256: result.sha256, verified: result.verified }],
      createdAt: Date.now(),
    };
    await options.store.writeManifest(manifest);
    options.onEvent?.({ type: 'file-done', file: name, resumedFromBytes: result.resumedFromBytes, source: 'peer', skipped: false });
    return { manifest, paths: [destination], downloadedBytes: result.sizeBytes - result.resumedFromBytes };
  } catch (error) {
    if (error instanceof TesseraError && (error.code === 'DISK_FULL' || error.code === 'DOWNLOAD_ABORTED')) throw error;
    return undefined;
  }
}

/** One file of a hub pull from a peer, checked against the hub's hash; undefined to fall back. */
async function fetchFromPeer(
  options: PullOptions,
  name: string,
  file: RepoFile,
  destination: string,
  report: (received: number) => void,
): Promise<{ sizeBytes: number; sha256: string; verified: boolean; resumedFromBytes: number } | undefined> {
  const source = await options.peerSource!(name, options.signal).catch(() => undefined);
  if (!source || source.sizeBytes !== file.sizeBytes) return undefined;
  try {
    return await downloadToFile({
      source,
      destination,
      ...(file.sha256 ? { sha256: file.sha256 } : {}),
      onProgress: report,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.retry ? { retry: { retries: 1, baseDelayMs: 200, maxDelayMs: 200 } } : {}),
    });
  } catch (error) {
    if (error instanceof TesseraError && (error.code === 'DISK_FULL' || error.code === 'DOWNLOAD_ABORTED')) throw error;
    return undefined;
  }
}

/** A file already in the store with the hub's size and hash is kept; anything else is fetched again. */
async function alreadyComplete(path: string, file: RepoFile, manifest: ModelManifest | undefined): Promise<ManifestFile | undefined> {
  if ((await sizeOf(path)) !== file.sizeBytes) return undefined;
  const recorded = manifest?.files.find((entry) => entry.name === baseName(file.path));
  // Re-hash rather than trust the manifest: a corrupt local file must not pass.
  const sha256 = await hashOf(path);
  if (file.sha256 !== undefined && sha256 !== file.sha256) return undefined;
  if (file.sha256 === undefined && recorded !== undefined && recorded.sha256 !== sha256) return undefined;
  return { name: baseName(file.path), sizeBytes: file.sizeBytes, sha256, verified: file.sha256 !== undefined };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export async function hashOf(path: string): Promise<string> {
  const hasher = createHash('sha256');
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}
