// Per-shard download: a node that runs layers [start, end) of a model fetches only the GGUF header
// and the tensors of those layers (plus the embeddings or the output head where its range needs
// them) by byte range, and stores them as a GGUF of its own. That file keeps the model's metadata
// (so block_count, tokenizer and chat template are the whole model's) and records the layers it
// holds under `general.tessera.layers`; the engine loads it with `layers: [start, end)` and
// computes exactly what the whole file would for those layers.
//
// A split model (gguf-split's `-00001-of-0000N.gguf` parts) gives one shard file too: every
// part's header is fetched by byte range, each wanted tensor comes from the part that holds it.
//
// The wanted byte ranges are downloaded first, back to back, into `<destination>.ranges` through
// the ordinary file downloader (so a killed shard download resumes too), then re-laid out as GGUF.

import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { TesseraError } from '../../shared/errors.js';
import { layerTensors, type ByteRange } from '../engine/gguf/layers.js';
import { getCount, getString } from '../engine/gguf/metadata.js';
import { INITIAL_HEADER_READ_BYTES, MAX_HEADER_BYTES, parseGGUFHeader } from '../engine/gguf/reader.js';
import { GGUFModel, splitInfoOf } from '../engine/gguf/split-model.js';
import type { GGUFHeader, GGUFTensorInfo } from '../engine/gguf/types.js';
import { typed, writeGGUF, type TensorToWrite, type WriteValue } from '../engine/gguf/writer.js';
import { GGUFValueType } from '../engine/gguf/types.js';
import { downloadToFile } from './download-file.js';
import type { RangeSource } from './range-source.js';
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from './retry.js';

/** `[start, end)` as a UINT32 array: the layers a per-shard file holds. */
export const SHARD_LAYERS_KEY = 'general.tessera.layers';
/** The whole file a shard was cut from, and its sha256 when known. */
export const SHARD_SOURCE_FILE_KEY = 'general.tessera.source_file';
export const SHARD_SOURCE_SHA256_KEY = 'general.tessera.source_sha256';
/** gguf-split's keys (`split.no`, `split.count`, `split.tensors.count`): never in a shard, which is one file. */
const SPLIT_KEY_PREFIX = 'split.';

/** The layers a GGUF header says its file holds, or undefined for a whole model. */
export function shardLayersOf(header: GGUFHeader): [number, number] | undefined {
  const value = header.metadata.get(SHARD_LAYERS_KEY);
  if (value === undefined) return undefined;
  if (!ArrayBuffer.isView(value) || value.length !== 2) throw new TesseraError('GGUF_INVALID', `${SHARD_LAYERS_KEY} must be two integers`);
  return [Number(value[0]), Number(value[1])];
}

/** Later parts of a split model carry only tensor infos and split keys: a small first read does. */
export const LATER_PART_HEADER_READ_BYTES = 64 * 1024;

/** Reads a remote file's GGUF header with as few range requests as it takes. */
export async function fetchGGUFHeader(
  source: RangeSource,
  signal?: AbortSignal,
  retry: RetryPolicy = DEFAULT_RETRY_POLICY,
  firstReadBytes = INITIAL_HEADER_READ_BYTES,
): Promise<GGUFHeader> {
  let prefix = new Uint8Array(0);
  let want = Math.min(source.sizeBytes, firstReadBytes);
  for (;;) {
    const from = prefix.byteLength;
    const more = await withRetries(() => readAll(source, from, want, signal), retry, signal);
    const grown = new Uint8Array(want);
    grown.set(prefix);
    grown.set(more, from);
    prefix = grown;
    const result = parseGGUFHeader(prefix, source.sizeBytes);
    if ('header' in result) return result.header;
    if (result.needBytes > MAX_HEADER_BYTES) throw new TesseraError('GGUF_INVALID', `${source.description}: GGUF header is too large`);
    want = Math.min(source.sizeBytes, Math.max(result.needBytes, prefix.byteLength * 2));
  }
}

/**
 * The model behind remote `parts` (one whole file, or every part of a split model in order), from
 * their headers alone: each part's header is fetched by byte range and split parts are checked
 * and merged as the engine does for local files (split-model.ts).
 */
export async function fetchGGUFModel(parts: readonly RangeSource[], signal?: AbortSignal, retry?: RetryPolicy): Promise<GGUFModel> {
  const headers = await Promise.all(
    parts.map((part, index) => fetchGGUFHeader(part, signal, retry, index === 0 ? INITIAL_HEADER_READ_BYTES : LATER_PART_HEADER_READ_BYTES)),
  );
  const named = parts.map((part, index) => ({ path: part.description, header: headers[index]! }));
  if (parts.length > 1) return GGUFModel.merge(named);
  const split = splitInfoOf(named[0]!.header, named[0]!.path);
  if (split !== undefined && split.count > 1) {
    throw new TesseraError(
      'GGUF_SPLIT_INVALID',
      `${parts[0]!.description} is part ${split.index + 1} of a split model of ${split.count} parts; a shard needs every part`,
    );
  }
  return GGUFModel.single(named[0]!);
}

async function readAll(source: RangeSource, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(end - start);
  let at = 0;
  for await (const chunk of source.read(start, end, signal)) {
    out.set(chunk.subarray(0, out.byteLength - at), at);
    at += chunk.byteLength;
    if (at >= out.byteLength) break;
  }
  if (at < out.byteLength) throw new TesseraError('HUB_UNREACHABLE', `${source.description} ended early at byte ${start + at}`);
  return out;
}

/** A byte range of one part (index into the model's parts) of a model. */
export interface PartByteRange extends ByteRange {
  readonly part: number;
}

/**
 * The byte ranges holding `tensors` (all in one file), sorted and merged where they touch or are
 * separated only by alignment padding: one request per run of neighbouring tensors.
 */
export function tensorByteRanges(tensors: readonly GGUFTensorInfo[], alignment: number): ByteRange[] {
  const ranges: { start: number; end: number }[] = [];
  for (const tensor of [...tensors].sort((a, b) => a.offset - b.offset)) {
    const range = { start: tensor.offset, end: tensor.offset + tensor.byteLength };
    const last = ranges[ranges.length - 1];
    if (last !== undefined && range.start - last.end < alignment) last.end = Math.max(last.end, range.end);
    else ranges.push(range);
  }
  return ranges;
}

/** A source whose bytes are the given ranges of the parts, back to back. */
export function concatenatedRanges(parts: readonly RangeSource[], ranges: readonly PartByteRange[]): RangeSource {
  const starts: number[] = [];
  let total = 0;
  for (const range of ranges) {
    starts.push(total);
    total += range.end - range.start;
  }
  return {
    description: parts.length === 1 ? parts[0]!.description : `${parts[0]!.description} and ${parts.length - 1} more parts`,
    sizeBytes: total,
    sha256: undefined,
    async *read(start, end, signal) {
      for (let i = 0; i < ranges.length; i++) {
        const range = ranges[i]!;
        const from = Math.max(start, starts[i]!);
        const to = Math.min(end, starts[i]! + (range.end - range.start));
        if (from >= to) continue;
        yield* parts[range.part]!.read(range.start + (from - starts[i]!), range.start + (to - starts[i]!), signal);
      }
    },
  };
}

export interface ShardDownloadOptions {
  /** The model's file; for a split model, its first part (and `parts` lists every part). */
  readonly source: RangeSource;
  /**
   * Every part of a split model, in part order (`parts[0]` is `source`): each tensor is fetched
   * from the part that holds it. Absent for a whole file.
   */
  readonly parts?: readonly RangeSource[];
  readonly destination: string;
  readonly layers: readonly [number, number];
  /** Recorded in the file: the name of the whole file (or a split model's first part) it was cut from. */
  readonly sourceFile: string;
  readonly signal?: AbortSignal;
  /** Bytes of tensor data fetched so far, of `totalBytes`. */
  readonly onProgress?: (receivedBytes: number, totalBytes: number) => void;
  readonly retry?: RetryPolicy;
}

export interface ShardDownloadResult {
  readonly path: string;
  readonly layers: readonly [number, number];
  /** Layers of the whole model. */
  readonly layerCount: number;
  /** Tensor bytes fetched (the headers' few MB aside). */
  readonly downloadedBytes: number;
  /** The whole model: every part together. */
  readonly sourceSizeBytes: number;
}

export async function downloadShard(options: ShardDownloadOptions): Promise<ShardDownloadResult> {
  const { layers, signal } = options;
  const sources = options.parts ?? [options.source];
  const model = await fetchGGUFModel(sources, signal, options.retry);
  const header = model.header;
  const architecture = getString(header.metadata, 'general.architecture');
  const layerCount = getCount(header.metadata, `${architecture}.block_count`);
  const [start, end] = layers;
  const wantedParts = { embeddings: start === 0, output: end === layerCount };
  // File order of the whole model: by part, then by offset within it.
  const tensors = layerTensors(header, start, end, wantedParts).sort((a, b) => model.partOf(a) - model.partOf(b) || a.offset - b.offset);
  const ranges: PartByteRange[] = model.parts.flatMap((part, index) =>
    tensorByteRanges(
      tensors.filter((tensor) => model.partOf(tensor) === index),
      part.header.alignment,
    ).map((range) => ({ part: index, ...range })),
  );
  const wanted = concatenatedRanges(sources, ranges);

  const rangesPath = `${options.destination}.ranges`;
  await downloadToFile({
    source: wanted,
    destination: rangesPath,
    ...(signal ? { signal } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    onProgress: (received) => options.onProgress?.(received, wanted.sizeBytes),
  });

  // Where each tensor's bytes sit in the ranges file.
  const positionOf = (tensor: GGUFTensorInfo): number => {
    const part = model.partOf(tensor);
    let at = 0;
    for (const range of ranges) {
      if (range.part === part && tensor.offset >= range.start && tensor.offset < range.end) return at + (tensor.offset - range.start);
      at += range.end - range.start;
    }
    throw new TesseraError('GGUF_INVALID', `tensor ${tensor.name} lies in no downloaded range`);
  };
  const toWrite: TensorToWrite[] = tensors.map((tensor) => ({
    name: tensor.name,
    dims: tensor.dims,
    type: tensor.type,
    data: () => streamFile(rangesPath, positionOf(tensor), tensor.byteLength),
  }));
  // One file, whatever the source was: no split keys, and our own shard keys written afresh.
  const metadata: [string, WriteValue][] = [...header.metadata].filter(([key]) => !key.startsWith('general.tessera.') && !key.startsWith(SPLIT_KEY_PREFIX));
  metadata.push([SHARD_LAYERS_KEY, typed.array(GGUFValueType.UINT32, [start, end])]);
  metadata.push([SHARD_SOURCE_FILE_KEY, options.sourceFile]);
  // A split model has no one whole-file hash to name.
  if (sources.length === 1 && options.source.sha256) metadata.push([SHARD_SOURCE_SHA256_KEY, options.source.sha256]);
  await writeGGUF(options.destination, { metadata, tensors: toWrite, alignment: header.alignment });
  await rm(rangesPath, { force: true });
  const sourceSizeBytes = sources.reduce((sum, part) => sum + part.sizeBytes, 0);
  return { path: options.destination, layers: [start, end], layerCount, downloadedBytes: wanted.sizeBytes, sourceSizeBytes };
}

async function* streamFile(path: string, start: number, length: number): AsyncGenerator<Uint8Array> {
  if (length === 0) return;
  for await (const chunk of createReadStream(path, { start, end: start + length - 1 })) yield chunk as Buffer;
}
