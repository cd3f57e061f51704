// Which tensors, and which byte ranges of the file, a shard running layers [start, end) needs.
// The model store downloads only these ranges; the engine loads only these tensors.

import { TesseraError } from '../../../shared/errors.js';
import { getCount, getString } from './metadata.js';
import type { GGUFHeader, GGUFTensorInfo } from './types.js';

export interface ShardParts {
  /** The first shard embeds tokens: `token_embd.weight`. */
  readonly embeddings: boolean;
  /**
   * The last shard applies the output norm and head: `output_norm.weight` and `output.weight`,
   * or `token_embd.weight` when the model ties its embeddings (no `output.weight`).
   */
  readonly output: boolean;
}

/** A half-open byte range [start, end) of the file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const LAYER_TENSOR = /^blk\.(\d+)\./;

/** Tensors not tied to one layer that every shard loads, such as llama 3's `rope_freqs.weight`. */
const SHARED_TENSORS: ReadonlySet<string> = new Set(['rope_freqs.weight']);

/** The tensors a shard over layers [start, end) needs, in file order. */
export function layerTensors(header: GGUFHeader, start: number, end: number, parts: ShardParts): GGUFTensorInfo[] {
  const blockCount = getCount(header.metadata, `${getString(header.metadata, 'general.architecture')}.block_count`);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > blockCount || start >= end) {
    throw new TesseraError('LAYER_RANGE_INVALID', `layer range [${start}, ${end}) is not within the model's ${blockCount} layers`);
  }
  const hasOutput = header.tensors.some((tensor) => tensor.name === 'output.weight');
  const wanted = (name: string): boolean => {
    const layer = LAYER_TENSOR.exec(name);
    if (layer !== null) {
      const index = Number(layer[1]);
      return index >= start && index < end;
    }
    if (SHARED_TENSORS.has(name)) return true;
    if (name === 'token_embd.weight') return parts.embeddings || (parts.output && !hasOutput);
    if (name === 'output_norm.weight' || name === 'output.weight') return parts.output;
    return false;
  };
  return header.tensors.filter((tensor) => wanted(tensor.name)).sort((a, b) => a.offset - b.offset);
}

/**
 * The byte ranges holding layers [start, end) plus the parts asked for, sorted and merged where
 * they touch or are separated only by alignment padding. Ranges of one file: pass a single
 * file's header, not a split model's merged one (whose offsets point into different parts).
 */
export function layerByteRanges(header: GGUFHeader, start: number, end: number, parts: ShardParts): ByteRange[] {
  const ranges: { start: number; end: number }[] = [];
  for (const tensor of layerTensors(header, start, end, parts)) {
    const range = { start: tensor.offset, end: tensor.offset + tensor.byteLength };
    const last = ranges[ranges.length - 1];
    if (last !== undefined && range.start - last.end < header.alignment) last.end = Math.max(last.end, range.end);
    else ranges.push(range);
  }
  return ranges;
}
