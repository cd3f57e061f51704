// A model split into several GGUF files by llama.cpp's gguf-split (`name-00001-of-00003.gguf` …)
// seen as one. Every part is a complete GGUF file: the first carries the model's metadata (and
// tokenizer) and some tensors, later parts mostly only the `split.*` keys and their own tensors.
// Each tensor lives in exactly one part, at an offset within that part's file.
//
// This module names the parts, checks that they belong together, and merges their headers into
// one: the first part's metadata plus every part's tensors, each tensor still knowing its file.
// It does no I/O; model-files.ts opens and reads the parts.

import { basename, dirname, join } from 'node:path';
import { TesseraError } from '../../../shared/errors.js';
import type { GGUFHeader, GGUFTensorInfo } from './types.js';

/** u16, 0-based index of this part. */
export const SPLIT_NO_KEY = 'split.no';
/** u16, how many parts the model has. */
export const SPLIT_COUNT_KEY = 'split.count';
/** i32, tensors in all parts together. */
export const SPLIT_TENSORS_COUNT_KEY = 'split.tensors.count';

/** `split.count` is a u16; the file names hold five digits. */
export const MAX_SPLIT_PARTS = 0xffff;

const SPLIT_FILE_NAME = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

/** Where a path sits in a split model, read from its file name. */
export interface SplitName {
  /** The path without `-NNNNN-of-MMMMM.gguf`. */
  readonly prefix: string;
  /** 1-based, as in the file name. */
  readonly number: number;
  readonly count: number;
}

/** `{ prefix: '/m/x', number: 2, count: 3 }` for `/m/x-00002-of-00003.gguf`; undefined for any other name. */
export function parseSplitPath(path: string): SplitName | undefined {
  const match = SPLIT_FILE_NAME.exec(basename(path));
  if (match === null) return undefined;
  const number = Number(match[2]);
  const count = Number(match[3]);
  if (number < 1 || number > count) return undefined;
  return { prefix: join(dirname(path), match[1]!), number, count };
}

/** The path of part `number` (1-based) of `count`: llama.cpp's `%s-%05d-of-%05d.gguf`. */
export function splitPartPath(prefix: string, number: number, count: number): string {
  const five = (value: number): string => String(value).padStart(5, '0');
  return `${prefix}-${five(number)}-of-${five(count)}.gguf`;
}

/** Every part's path, in order, for a path to any one of them. */
export function splitPartPaths(name: SplitName): string[] {
  return Array.from({ length: name.count }, (_, i) => splitPartPath(name.prefix, i + 1, name.count));
}

/** The split keys of one file; undefined for a file that is not part of a split model. */
export interface SplitInfo {
  /** 0-based. */
  readonly index: number;
  readonly count: number;
  /** Only the first part must carry it. */
  readonly tensorCount?: number;
}

export function splitInfoOf(header: GGUFHeader, path: string): SplitInfo | undefined {
  const count = header.metadata.get(SPLIT_COUNT_KEY);
  if (count === undefined) return undefined;
  const index = header.metadata.get(SPLIT_NO_KEY);
  const tensorCount = header.metadata.get(SPLIT_TENSORS_COUNT_KEY);
  const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;
  if (!isCount(count) || count < 1 || count > MAX_SPLIT_PARTS) throw splitInvalid(path, `${SPLIT_COUNT_KEY} is ${String(count)}`);
  if (!isCount(index)) throw splitInvalid(path, `${SPLIT_NO_KEY} is ${index === undefined ? 'missing' : String(index)}`);
  if (tensorCount !== undefined && !isCount(tensorCount)) throw splitInvalid(path, `${SPLIT_TENSORS_COUNT_KEY} is ${String(tensorCount)}`);
  return tensorCount === undefined ? { index, count } : { index, count, tensorCount };
}

/** One file of a model and its header. */
export interface GGUFModelPart {
  readonly path: string;
  readonly header: GGUFHeader;
}

/**
 * A model as one header over one or more files.
 *
 * `header` has the first part's metadata and every tensor of every part, in part order. A
 * tensor's `offset` counts from the start of the file that holds it (`pathOf(tensor)`), so
 * offsets of different parts may be equal; `header.dataOffset` is the first part's. For a
 * single file `header` is that file's header itself, untouched.
 */
export class GGUFModel {
  private constructor(
    readonly header: GGUFHeader,
    readonly parts: readonly GGUFModelPart[],
    /** Undefined for a single file: every tensor is in part 0. */
    private readonly partByTensor: ReadonlyMap<string, number> | undefined,
  ) {}

  /** A whole (unsplit) file. */
  static single(part: GGUFModelPart): GGUFModel {
    return new GGUFModel(part.header, [part], undefined);
  }

  /**
   * Checks that `parts` (in part order, all of them) make one split model and merges them.
   * Throws GGUF_SPLIT_INVALID naming the part at fault.
   */
  static merge(parts: readonly GGUFModelPart[]): GGUFModel {
    if (parts.length === 0) throw new TesseraError('GGUF_SPLIT_INVALID', 'a split model needs at least one part');
    const partByTensor = new Map<string, number>();
    const tensors: GGUFTensorInfo[] = [];
    parts.forEach((part, index) => {
      const split = splitInfoOf(part.header, part.path);
      if (split === undefined) throw splitInvalid(part.path, `it has no ${SPLIT_COUNT_KEY}, so it is not part of a split model`);
      if (split.count !== parts.length) {
        throw splitInvalid(part.path, `its ${SPLIT_COUNT_KEY} is ${split.count}, but the model has ${parts.length} parts`);
      }
      if (split.index !== index) {
        throw splitInvalid(part.path, `its ${SPLIT_NO_KEY} is ${split.index}, but it is part ${index} (0-based) by name`);
      }
      for (const tensor of part.header.tensors) {
        const other = partByTensor.get(tensor.name);
        if (other !== undefined) {
          throw splitInvalid(part.path, `tensor ${tensor.name} is also in ${parts[other]!.path}`);
        }
        partByTensor.set(tensor.name, index);
        tensors.push(tensor);
      }
    });
    const first = parts[0]!;
    const expected = splitInfoOf(first.header, first.path)!.tensorCount;
    if (expected === undefined) throw splitInvalid(first.path, `the first part has no ${SPLIT_TENSORS_COUNT_KEY}`);
    if (expected !== tensors.length) {
      throw splitInvalid(first.path, `${SPLIT_TENSORS_COUNT_KEY} says ${expected} tensors, the ${parts.length} parts hold ${tensors.length}`);
    }
    return new GGUFModel({ ...first.header, tensors }, parts, partByTensor);
  }

  /** True for a model in more than one file. */
  get isSplit(): boolean {
    return this.parts.length > 1;
  }

  /** The index in `parts` of the file holding `tensor`. */
  partOf(tensor: GGUFTensorInfo | string): number {
    if (this.partByTensor === undefined) return 0;
    const name = typeof tensor === 'string' ? tensor : tensor.name;
    const part = this.partByTensor.get(name);
    if (part === undefined) throw new TesseraError('MODEL_MISSING_TENSOR', `tensor ${name} is in no part of the model`);
    return part;
  }

  /** The file holding `tensor`. */
  pathOf(tensor: GGUFTensorInfo | string): string {
    return this.parts[this.partOf(tensor)]!.path;
  }
}

function splitInvalid(path: string, reason: string): TesseraError {
  return new TesseraError('GGUF_SPLIT_INVALID', `split model part ${path} does not fit: ${reason}`);
}
