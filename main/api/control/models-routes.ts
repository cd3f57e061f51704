// /api/models: the GGUF files in `<dataDir>/models` (described from their headers) and the models
// this node serves; load, unload, import a file from elsewhere on disk (copied in; every part of
// a split model), delete.
// Every change goes out as a `models` event so each open UI refetches.

import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import {
  CONTROL_MODELS_PATH,
  modelImportSchema,
  modelLoadSchema,
  modelUnloadSchema,
  type ControlEvent,
  type LoadedModel,
  type LocalModel,
  type ModelsState,
} from '../../../shared/control.js';
import { TesseraError } from '../../../shared/errors.js';
import { readModelHeader } from '../../engine/gguf/model-files.js';
import { parseSplitPath, splitPartPaths } from '../../engine/gguf/split-model.js';
import { GGMLType, type GGUFHeader } from '../../engine/gguf/types.js';
import { readConfig } from '../../engine/model/config.js';
import type { ServedModels } from '../../node/served-models.js';
import { importModelFiles } from '../../models/import-model.js';
import { readJsonBody } from '../body.js';
import { modelIdFromPath, type ServedModel } from '../chat/served-model.js';
import type { ControlRoutes } from '../control-router.js';
import { MAX_CONTROL_REQUEST_BODY_BYTES } from '../limits.js';
import { sendJson } from '../respond.js';
import type { z } from 'zod';

/** Bytes per KV cache value: the engine keeps keys and values in f32. */
const KV_BYTES_PER_VALUE = 4;

/** llama.cpp's `general.file_type` (enum llama_ftype) names, for the ones seen in the wild. */
const FILE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 32: 'BF16',
};

export interface ModelsRoutesBackend {
  /** `<dataDir>/models`: where imports go and what the list shows. */
  modelsDir: string;
  models: ServedModels;
  publish(event: ControlEvent): void;
}

export function modelsRoutes(backend: ModelsRoutesBackend): ControlRoutes {
  const loading = new Map<string, { id: string; path: string; startedAt: number }>();
  const changed = () => backend.publish({ type: 'models' });

  const state = async (): Promise<ModelsState> => ({
    modelsDir: backend.modelsDir,
    local: await listLocalModels(backend.modelsDir),
    loaded: await Promise.all(backend.models.list().map(describeLoadedModel)),
    loading: [...loading.values()],
  });

  return {
    [CONTROL_MODELS_PATH]: { GET: async (_request, response) => sendJson(response, 200, await state()) },
    [`${CONTROL_MODELS_PATH}/load`]: {
      POST: async (request, response) => {
        const { path: given } = await readBody(request, modelLoadSchema);
        const path = isAbsolute(given) ? given : join(backend.modelsDir, given);
        await requireGGUFFile(path);
        const id = modelIdFromPath(path);
        if (loading.has(id)) throw new TesseraError('REQUEST_INVALID', `"${id}" is already loading`);
        loading.set(id, { id, path, startedAt: Date.now() });
        changed();
        try {
          const model = await backend.models.load(path);
          sendJson(response, 200, await describeLoadedModel(model));
        } finally {
          loading.delete(id);
          changed();
        }
      },
    },
    [`${CONTROL_MODELS_PATH}/unload`]: {
      POST: async (request, response) => {
        const { id } = await readBody(request, modelUnloadSchema);
        await backend.models.unload(id);
        changed();
        sendJson(response, 200, await state());
      },
    },
    [`${CONTROL_MODELS_PATH}/import`]: {
      POST: async (request, response) => {
        const { path: source } = await readBody(request, modelImportSchema);
        if (!isAbsolute(source)) throw new TesseraError('REQUEST_INVALID', 'give the full path of the .gguf file to import');
        await requireGGUFFile(source);
        // Any part of a split model brings every part (or is refused naming the missing one).
        const imported = await importModelFiles(source, backend.modelsDir);
        changed();
        sendJson(response, 200, await describeLocalModel(imported.paths[0]!));
      },
    },
    [`${CONTROL_MODELS_PATH}/*`]: {
      DELETE: async (_request, response, url) => {
        const file = decodeURIComponent(url.pathname.slice(CONTROL_MODELS_PATH.length + 1));
        if (file !== basename(file) || file.startsWith('.') || extname(file).toLowerCase() !== '.gguf') {
          throw new TesseraError('REQUEST_INVALID', `"${file}" is not a model file name`);
        }
        // A split model goes as a whole: every part of it in the folder.
        const paths = (await filesOfModel(backend.modelsDir, file)).map((name) => join(backend.modelsDir, name));
        if (paths.length === 0) throw new TesseraError('MODEL_NOT_FOUND', `no model file ${file}`);
        if (backend.models.list().some((model) => paths.some((path) => resolve(model.engine.info.path) === resolve(path)))) {
          throw new TesseraError('REQUEST_INVALID', `${file} is loaded; unload it first`);
        }
        for (const path of paths) {
          await rm(path).catch((error: NodeJS.ErrnoException) => {
            throw error.code === 'ENOENT' ? new TesseraError('MODEL_NOT_FOUND', `no model file ${file}`) : error;
          });
        }
        changed();
        sendJson(response, 200, await state());
      },
    },
  };
}

async function readBody<T>(request: Parameters<typeof readJsonBody>[0], schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJsonBody(request, MAX_CONTROL_REQUEST_BODY_BYTES));
  if (!parsed.success) throw new TesseraError('REQUEST_INVALID', `invalid body: ${parsed.error.issues[0]?.message ?? 'bad body'}`);
  return parsed.data;
}

async function requireGGUFFile(path: string): Promise<void> {
  if (extname(path).toLowerCase() !== '.gguf') throw new TesseraError('REQUEST_INVALID', `${path} is not a .gguf file`);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new TesseraError('MODEL_NOT_FOUND', `no file ${path}`);
}

/**
 * Every model in the folder, by file name: a whole `.gguf`, or a split model once (under its
 * lowest-numbered part, sized as all its parts). A missing folder is an empty list.
 */
export async function listLocalModels(modelsDir: string): Promise<LocalModel[]> {
  const names = await readdir(modelsDir).catch(() => [] as string[]);
  const files = names.filter((name) => extname(name).toLowerCase() === '.gguf' && !name.startsWith('.')).sort();
  const groups = new Map<string, string[]>();
  for (const name of files) {
    const split = parseSplitPath(name);
    const key = split === undefined ? name : `${split.prefix}#${split.count}`;
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  return Promise.all([...groups.values()].map((group) => describeLocalModel(join(modelsDir, group[0]!))));
}

/** The files of the model `file` belongs to that are in the folder: itself, or every part of it present. */
async function filesOfModel(modelsDir: string, file: string): Promise<string[]> {
  const present = new Set(await readdir(modelsDir).catch(() => [] as string[]));
  const split = parseSplitPath(file);
  return (split === undefined ? [file] : splitPartPaths(split)).filter((name) => present.has(name));
}

/**
 * Size and header facts of one model by its file; for a split model (any part) the facts of the
 * whole, sized as every part in the folder. A model whose header cannot be read says why.
 */
export async function describeLocalModel(path: string): Promise<LocalModel> {
  let size = 0;
  for (const name of await filesOfModel(dirname(path), basename(path))) size += (await stat(join(dirname(path), name))).size;
  const base = { file: basename(path), path, sizeBytes: size, id: modelIdFromPath(path) };
  try {
    const header = await readModelHeader(path);
    const architecture = stringMeta(header, 'general.architecture');
    const key = (name: string) => (architecture === null ? null : numberMeta(header, `${architecture}.${name}`));
    return {
      ...base,
      name: stringMeta(header, 'general.name'),
      architecture,
      quant: quantName(header),
      layers: key('block_count'),
      contextLength: key('context_length'),
      parameters: header.tensors.reduce((sum, tensor) => sum + tensor.dims.reduce((product, dim) => product * dim, 1), 0),
      kvBytesPerTokenPerLayer: kvBytesPerTokenPerLayer(header),
      error: null,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, name: null, architecture: null, quant: null, layers: null, contextLength: null, parameters: null, kvBytesPerTokenPerLayer: null, error: message };
  }
}

/** What a served model holds here: its layer range, weight bytes of that range, KV cache at full context. */
async function describeLoadedModel(model: ServedModel): Promise<LoadedModel> {
  const info = model.engine.info;
  const [start, end] = info.layers;
  let weightBytes = 0;
  let kvBytes = 0;
  try {
    const header = await readModelHeader(info.path);
    const tiedOutput = !header.tensors.some((tensor) => tensor.name === 'output.weight');
    const held = header.tensors.filter((tensor) => tensorInRange(tensor.name, start, end, info.isFirst, info.isLast && tiedOutput, info.isLast));
    weightBytes = held.reduce((sum, tensor) => sum + tensor.byteLength, 0);
    const config = readConfig(header);
    kvBytes = 2 * (end - start) * info.contextLength * config.n_kv_heads * config.head_dim * KV_BYTES_PER_VALUE;
  } catch {
    // The file went away after loading; the figures stay 0 rather than failing the whole list.
  }
  return {
    id: model.id,
    path: info.path,
    architecture: info.architecture,
    layers: [start, end],
    nLayers: info.nLayers,
    contextLength: info.contextLength,
    dim: info.dim,
    backend: info.backend,
    threads: info.threads,
    weightBytes,
    kvBytes,
    loadedAt: model.created * 1000,
  };
}

/** Whether a shard over [start, end) holds the tensor; the output head may reuse the embeddings (tied). */
function tensorInRange(name: string, start: number, end: number, isFirst: boolean, needsTiedOutput: boolean, isLast: boolean): boolean {
  const block = /^blk\.(\d+)\./.exec(name);
  if (block) {
    const index = Number(block[1]);
    return index >= start && index < end;
  }
  if (name.startsWith('token_embd')) return isFirst || needsTiedOutput;
  return isLast; // output_norm, output
}

/** null for architectures the engine cannot run (their KV layout is unknown). */
function kvBytesPerTokenPerLayer(header: GGUFHeader): number | null {
  try {
    const config = readConfig(header);
    return 2 * config.n_kv_heads * config.head_dim * KV_BYTES_PER_VALUE;
  } catch {
    return null;
  }
}

function quantName(header: GGUFHeader): string | null {
  const fileType = numberMeta(header, 'general.file_type');
  if (fileType !== null && FILE_TYPE_NAMES[fileType] !== undefined) return FILE_TYPE_NAMES[fileType];
  // No file type: name the type that holds the most weight bytes.
  const bytesByType = new Map<GGMLType, number>();
  for (const tensor of header.tensors) bytesByType.set(tensor.type, (bytesByType.get(tensor.type) ?? 0) + tensor.byteLength);
  const commonest = [...bytesByType.entries()].sort((a, b) => b[1] - a[1])[0];
  return commonest === undefined ? null : (GGMLType[commonest[0]] ?? `type ${commonest[0]}`);
}

function stringMeta(header: GGUFHeader, key: string): string | null {
  const value = header.metadata.get(key);
  return typeof value === 'string' ? value : null;
}

function numberMeta(header: GGUFHeader, key: string): number | null {
  const value = header.metadata.get(key);
  return typeof value === 'number' ? value : null;
}
