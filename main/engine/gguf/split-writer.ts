// Writes a model as a split GGUF, the way llama.cpp's gguf-split lays it out: N complete GGUF
// files named `<prefix>-0000i-of-0000N.gguf`, each with `split.no` (u16), `split.count` (u16)
// and `split.tensors.count` (i32); the first part also carries all of the model's metadata.
// Tensors keep their order and are cut into N runs of about equal count.

import { TesseraError } from '../../../shared/errors.js';
import { SPLIT_COUNT_KEY, SPLIT_NO_KEY, SPLIT_TENSORS_COUNT_KEY, splitPartPath, MAX_SPLIT_PARTS } from './split-model.js';
import { typed, writeGGUF, type GGUFWriteInput, type TensorToWrite, type WriteValue } from './writer.js';

export interface WrittenSplitGGUF {
  /** Every part, in order. */
  readonly paths: readonly string[];
  /** All parts together. */
  readonly fileBytes: number;
  /** The first part's data section offset. */
  readonly dataOffset: number;
}

/** `tensors` cut into `parts` contiguous runs whose lengths differ by at most one. */
export function splitTensors<T>(tensors: readonly T[], parts: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1 || parts > MAX_SPLIT_PARTS || parts > tensors.length) {
    throw new TesseraError('GGUF_INVALID', `cannot split ${tensors.length} tensors into ${parts} parts`);
  }
  return Array.from({ length: parts }, (_, i) =>
    tensors.slice(Math.floor((i * tensors.length) / parts), Math.floor(((i + 1) * tensors.length) / parts)),
  );
}

/**
 * Writes `input` split into `parts` files beside `prefix` (a path without `.gguf`, e.g.
 * `/models/tiny` → `/models/tiny-00001-of-00003.gguf` …). Each part appears whole or not at all.
 */
export async function writeSplitGGUF(prefix: string, input: GGUFWriteInput, parts: number): Promise<WrittenSplitGGUF> {
  const runs: TensorToWrite[][] = splitTensors(input.tensors, parts);
  const metadata = [...input.metadata].filter(([key]) => !key.startsWith('split.'));
  // Every part is laid out with the model's alignment, so later parts repeat it.
  const alignment = metadata.filter(([key]) => key === 'general.alignment');
  const paths: string[] = [];
  let fileBytes = 0;
  let dataOffset = 0;
  for (let i = 0; i < parts; i++) {
    const splitKeys: [string, WriteValue][] = [
      [SPLIT_NO_KEY, typed.u16(i)],
      [SPLIT_COUNT_KEY, typed.u16(parts)],
      [SPLIT_TENSORS_COUNT_KEY, typed.i32(input.tensors.length)],
    ];
    const path = splitPartPath(prefix, i + 1, parts);
    const written = await writeGGUF(path, {
      metadata: i === 0 ? [...metadata, ...splitKeys] : [...alignment, ...splitKeys],
      tensors: runs[i]!,
      ...(input.alignment === undefined ? {} : { alignment: input.alignment }),
    });
    if (i === 0) dataOffset = written.dataOffset;
    fileBytes += written.fileBytes;
    paths.push(path);
  }
  return { paths, fileBytes, dataOffset };
}
