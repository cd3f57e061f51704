// Opens a model's GGUF file, or every part of a split model, and reads tensors from whichever
// file holds them. Given any part of a split model it finds the siblings by name
// (`-NNNNN-of-MMMMM.gguf`), checks them (split-model.ts) and serves them as one model.
//
// A whole file costs what it did before splits existed: one open, one header read, no copies.

import { open, type FileHandle } from 'node:fs/promises';
import { TesseraError } from '../../../shared/errors.js';
import { readGGUFHeader, readTensorBytes } from './reader.js';
import { GGUFModel, parseSplitPath, splitInfoOf, splitPartPaths, type GGUFModelPart } from './split-model.js';
import type { GGUFHeader, GGUFTensorInfo } from './types.js';

export class GGUFModelFiles {
  private constructor(
    readonly model: GGUFModel,
    /** One open handle per part, in part order. */
    private readonly handles: readonly FileHandle[],
  ) {}

  /** Opens the model at `path`: a whole file, or any part of a split model. */
  static async open(path: string): Promise<GGUFModelFiles> {
    const handle = await openModelFile(path);
    const handles: FileHandle[] = [handle];
    try {
      const header = await readGGUFHeader(handle);
      const split = splitInfoOf(header, path);
      const name = parseSplitPath(path);
      if ((split?.count ?? 1) === 1 && (name?.count ?? 1) === 1) {
        return new GGUFModelFiles(GGUFModel.single({ path, header }), handles);
      }
      if (name === undefined) {
        throw new TesseraError(
          'GGUF_SPLIT_INVALID',
          `${path} is part ${split!.index + 1} of a split model of ${split!.count} parts, but its name does not end in ` +
            `-NNNNN-of-MMMMM.gguf, so the other parts cannot be found`,
        );
      }
      const paths = splitPartPaths(name);
      const given = name.number - 1;
      handles.length = 0;
      const opened = await Promise.allSettled(paths.map((partPath, i) => (i === given ? Promise.resolve(handle) : open(partPath, 'r'))));
      for (const result of opened) if (result.status === 'fulfilled') handles.push(result.value);
      const missing = paths.filter((_, i) => opened[i]!.status === 'rejected');
      if (missing.length > 0) {
        throw new TesseraError(
          'GGUF_SPLIT_PART_MISSING',
          `split model ${name.prefix} has ${name.count} parts; missing or unreadable: ${missing.join(', ')}`,
        );
      }
      const parts: GGUFModelPart[] = [];
      for (let i = 0; i < paths.length; i++) {
        parts.push({ path: paths[i]!, header: i === given ? header : await readGGUFHeader(handles[i]!) });
      }
      return new GGUFModelFiles(GGUFModel.merge(parts), handles);
    } catch (error) {
      await Promise.allSettled(handles.map((opened) => opened.close()));
      throw error;
    }
  }

  get header(): GGUFHeader {
    return this.model.header;
  }

  /** One tensor's bytes, from the file that holds it. */
  readTensor(tensor: GGUFTensorInfo): Promise<Uint8Array> {
    return readTensorBytes(this.handleOf(tensor), tensor);
  }

  /** Fills `target` with the tensor's bytes from `byteOffset` on (relative to the tensor's start). */
  async readTensorRange(tensor: GGUFTensorInfo, byteOffset: number, target: Uint8Array): Promise<void> {
    const file = this.handleOf(tensor);
    const position = tensor.offset + byteOffset;
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await file.read(target, done, target.length - done, position + done);
      if (bytesRead === 0) {
        throw new TesseraError('GGUF_TRUNCATED', `${this.model.pathOf(tensor)} ends before byte ${position + target.length}`);
      }
      done += bytesRead;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.handles.map((handle) => handle.close()));
  }

  private handleOf(tensor: GGUFTensorInfo): FileHandle {
    return this.handles[this.model.partOf(tensor)]!;
  }
}

/** The model at `path` (a whole file or any part of a split one), headers only. */
export async function readGGUFModel(path: string): Promise<GGUFModel> {
  const files = await GGUFModelFiles.open(path);
  await files.close();
  return files.model;
}

/**
 * The header of the model at `path` as one file would have it: for a split model, the first
 * part's metadata and every part's tensors (see GGUFModel). Use it where readGGUFHeader was used
 * for a model's facts; readGGUFHeader still reads exactly one file.
 */
export async function readModelHeader(path: string): Promise<GGUFHeader> {
  return (await readGGUFModel(path)).header;
}

async function openModelFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (cause) {
    throw new TesseraError('MODEL_NOT_FOUND', `cannot open model file ${path}`, { cause });
  }
}
