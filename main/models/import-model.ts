// Import from disk: a GGUF file somewhere else on the machine copied into the models folder. A
// split model (gguf-split's `-0000i-of-0000N.gguf` parts) comes in whole: naming any one part
// imports every part, and a model with a part missing is refused with that part's name, so the
// store never holds half a model it cannot load.

import { constants } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import { readGGUFModel } from '../engine/gguf/model-files.js';
import { PARTIAL_SUFFIX } from './download-file.js';

export interface ImportedModel {
  /** The files in the models folder, in part order (one for a whole file). */
  readonly paths: readonly string[];
  readonly sizeBytes: number;
}

/**
 * Copies the model at `source` (a whole GGUF file or any part of a split one) into `modelsDir`.
 * Reads every header first (GGUF_INVALID, GGUF_SPLIT_PART_MISSING, GGUF_SPLIT_INVALID) and
 * refuses a name already in the folder (REQUEST_INVALID) before copying anything.
 */
export async function importModelFiles(source: string, modelsDir: string): Promise<ImportedModel> {
  // Opening the model checks what the engine will check: every part there, and belonging together.
  const model = await readGGUFModel(source);
  const sources = model.parts.map((part) => part.path);
  const targets = sources.map((path) => join(modelsDir, basename(path)));
  await mkdir(modelsDir, { recursive: true });
  for (const target of targets) {
    if (await exists(target)) throw new TesseraError('REQUEST_INVALID', `${basename(target)} is already in the models folder`);
  }
  // Each part is copied beside its final name (a `.partial` is never listed) and renamed once all
  // are copied: a failed import leaves nothing behind.
  const partials = targets.map((target) => target + PARTIAL_SUFFIX);
  try {
    for (let i = 0; i < sources.length; i++) await copyFile(sources[i]!, partials[i]!, constants.COPYFILE_EXCL);
    for (let i = 0; i < targets.length; i++) await rename(partials[i]!, targets[i]!);
  } catch (error) {
    await Promise.all(partials.map((partial) => rm(partial, { force: true })));
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TesseraError('REQUEST_INVALID', `${basename(source)} is being imported already`);
    }
    throw error;
  }
  let sizeBytes = 0;
  for (const target of targets) sizeBytes += (await stat(target)).size;
  return { paths: targets, sizeBytes };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
