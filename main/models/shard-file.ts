// Per-shard download: a node that runs layers [start, end) of a model fetches only the GGUF header
// and the tensors of those layers (plus the embeddings or the output head where its range needs
// them) by byte range, and stores them as a GGUF of its own. That file keeps the model's metadata
// (so block_count, tokenizer and chat template are the whole model's) and records the layers it
// holds under `general.tessera.layers`; the engine loads it with `layers: [start, end)` and
// computes exactly what the whole file would for those layers.
//
// The wanted byte ranges are downloaded first, back to back, into `<destination>.ranges` through
// the ordinary file downloader (so a killed shard download resumes too), then re-laid out as GGUF.

import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { TesseraError } from '../../shared/errors.js';
import { layerByteRanges, layerTensors, type ByteRange } from '../engine/gguf/layers.js';
import { getCount, getString } from '../engine/gguf/metadata.js';
import { INITIAL_HEADER_READ_BYTES, MAX_HEADER_BYTES, parseGGUFHeader } from '../engine/gguf/reader.js';
import type { GGUFHeader } from '../engine/gguf/types.js';
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

/** The layers a GGUF header says its file holds, or undefined for a whole model. */
export function shardLayersOf(header: GGUFHeader): [number, number] | undefined {
  const value = header.metadata.get(SHARD_LAYERS_KEY);
  if (value === undefined) return undefined;
  if (!ArrayBuffer.isView(value) || value.length !== 2) throw new TesseraError('GGUF_INVALID', `${SHARD_LAYERS_KEY} must be two integers`);
  return [Number(value[0]), Number(value[1])];
}

/** Reads a remote file's GGUF header with as few range requests as it takes. */
export async function fetchGGUFHeader(source: RangeSource, signal?: AbortSignal, retry: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<GGUFHeader> {
  let prefix = new Uint8Array(0);
  let want = Math.min(source.sizeBytes, INITIAL_HEADER_READ_BYTES);
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

/** A source whose bytes are the given ranges of another, back to back. */
export function concatenatedRanges(source: RangeSource, ranges: readonly ByteRange[]): RangeSource {
  const starts: number[] = [];
  let total = 0;
  for (const range of ranges) {
    starts.push(total);
    total += range.end - range.start;
  }
  return {
    description: source.description,
    sizeBytes: total,
    sha256: undefined,
    async *read(start, end, signal) {
      for (let i = 0; i < ranges.length; i++) {
        const range = ranges[i]!;
        const from = Math.max(start, starts[i]!);
        const to = Math.min(end, starts[i]! + (range.end - range.start));
        if (from >= to) continue;
        yield* source.read(range.start + (from - starts[i]!), range.start + (to - starts[i]!), signal);
      }
    },
  };
}

export interface ShardDownloadOptions {
  readonly source: RangeSource;
  readonly destination: string;
  readonly layers: readonly [number, number];
  /** Recorded in the file: the name of the whole file it was cut from. */
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
  /** Tensor bytes fetched (the header's few MB aside). */
  readonly downloadedBytes: number;
  readonly sourceSizeBytes: number;
}

export async function downloadShard(options: ShardDownloadOptions): Promise<ShardDownloadResult> {
  const { source, layers, signal } = options;
  const header = await fetchGGUFHeader(source, signal, options.retry);
  const architecture = getString(header.metadata, 'general.architecture');
  const layerCount = getCount(header.metadata, `${architecture}.block_count`);
  const [start, end] = layers;
  const parts = { embeddings: start === 0, output: end === layerCount };
  const tensors = layerTensors(header, start, end, parts);
  const ranges = layerByteRanges(header, start, end, parts);
  const wanted = concatenatedRanges(source, ranges);

  const rangesPath = `${options.destination}.ranges`;
  await downloadToFile({
    source: wanted,
    destination: rangesPath,
    ...(signal ? { signal } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    onProgress: (received) => options.onProgress?.(received, wanted.sizeBytes),
  });

  // Where each tensor's bytes sit in the ranges file.
  const positionOf = (offset: number): number => {
    let at = 0;
    for (const range of ranges) {
      if (offset >= range.start && offset < range.end) return at + (offset - range.start);
      at += range.end - range.start;
    }
    throw new TesseraError('GGUF_INVALID', `offset ${offset} lies in no downloaded range`);
  };
  const toWrite: TensorToWrite[] = tensors.map((tensor) => ({
    name: tensor.name,
    dims: tensor.dims,
    type: tensor.type,
    data: () => streamFile(rangesPath, positionOf(tensor.offset), tensor.byteLength),
  }));
  const metadata: [string, WriteValue][] = [...header.metadata].filter(([key]) => !key.startsWith('general.tessera.'));
  metadata.push([SHARD_LAYERS_KEY, typed.array(GGUFValueType.UINT32, [start, end])]);
  metadata.push([SHARD_SOURCE_FILE_KEY, options.sourceFile]);
  if (source.sha256) metadata.push([SHARD_SOURCE_SHA256_KEY, source.sha256]);
  await writeGGUF(options.destination, { metadata, tensors: toWrite, alignment: header.alignment });
  await rm(rangesPath, { force: true });
  return { path: options.destination, layers: [start, end], layerCount, downloadedBytes: wanted.sizeBytes, sourceSizeBytes: source.sizeBytes };
}

async function* streamFile(path: string, start: number, length: number): AsyncGenerator<Uint8Array> {
  if (length === 0) return;
  for await (const chunk of createReadStream(path, { start, end: start + length - 1 })) yield chunk as Buffer;
}
