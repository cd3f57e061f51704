// The local model store: GGUF files in one folder (`<dataDir>/models`), flat, plus a small JSON
// manifest per model in `<dir>/.manifests/` saying where it came from, the sha256 of each file
// and, for a per-shard download, which layers it holds. A model is one file or every part of a
// split GGUF; a file still downloading is `<name>.partial` and never looks like a model.

import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import { readModelHeader } from '../engine/gguf/model-files.js';
import { writeFileAtomic } from '../node/data-dir.js';
import { modelIdOf, quantOf, splitPart } from './model-ref.js';
import { PARTIAL_SUFFIX } from './download-file.js';
import { SHARD_LAYERS_KEY } from './shard-file.js';

export const MANIFEST_DIR = '.manifests';

/** The store's folder inside a node's data directory. */
export function modelsDirOf(dataDir: string): string {
  return join(dataDir, 'models');
}

export interface ManifestFile {
  /** File name inside the store folder. */
  readonly name: string;
  readonly sizeBytes: number;
  /** sha256 (hex) of the file as stored. */
  readonly sha256: string;
  /** True when the hash was checked against the hub's (or a peer's) before the file was kept. */
  readonly verified: boolean;
}

export interface ModelManifest {
  readonly id: string;
  /** Hub repo it came from (`owner/name`), when pulled. */
  readonly repo?: string;
  readonly files: readonly ManifestFile[];
  /** A per-shard file: the layers [start, end) it holds, and the whole file (a split model: its first part) it was cut from. */
  readonly shard?: { readonly layers: readonly [number, number]; readonly sourceFile: string; readonly sourceSha256?: string };
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** One model in the store, as `tessera models` and the control API show it. */
export interface StoredModel {
  readonly id: string;
  readonly files: readonly string[];
  readonly paths: readonly string[];
  readonly sizeBytes: number;
  readonly repo: string | null;
  readonly architecture: string | null;
  readonly quant: string | null;
  /** Layers of the whole model. */
  readonly layerCount: number | null;
  /** For a per-shard file, the layers [start, end) it holds. */
  readonly shardLayers: readonly [number, number] | null;
  /** Why the header could not be read (a corrupt or truncated file). */
  readonly error: string | null;
}

export class ModelStore {
  constructor(readonly dir: string) {}

  pathOf(fileName: string): string {
    return join(this.dir, fileName);
  }

  async readManifest(id: string): Promise<ModelManifest | undefined> {
    try {
      return JSON.parse(await readFile(this.manifestPath(id), 'utf8')) as ModelManifest;
    } catch {
      return undefined;
    }
  }

  async writeManifest(manifest: ModelManifest): Promise<void> {
    await mkdir(join(this.dir, MANIFEST_DIR), { recursive: true });
    await writeFileAtomic(this.manifestPath(manifest.id), `${JSON.stringify(manifest, null, 2)}\n`, 0o644);
  }

  /** Every model in the folder: those with manifests and any GGUF file copied in by hand. */
  async list(): Promise<StoredModel[]> {
    const names = await this.fileNames();
    const ggufs = names.filter((name) => /\.gguf$/i.test(name));
    const groups = new Map<string, string[]>();
    for (const name of ggufs) {
      const id = modelIdOf(name);
      groups.set(id, [...(groups.get(id) ?? []), name]);
    }
    const models: StoredModel[] = [];
    for (const [id, files] of groups) {
      files.sort((a, b) => (splitPart(a)?.index ?? 0) - (splitPart(b)?.index ?? 0));
      models.push(await this.describe(id, files, await this.readManifest(id)));
    }
    return models.sort((a, b) => a.id.localeCompare(b.id));
  }

  async find(id: string): Promise<StoredModel | undefined> {
    return (await this.list()).find((model) => model.id === id || model.files.includes(id));
  }

  /** Deletes a model: its files, any partial downloads of them, and its manifest. */
  async remove(id: string): Promise<StoredModel> {
    const model = await this.find(id);
    if (!model) throw new TesseraError('MODEL_NOT_FOUND', `no model "${id}" in ${this.dir} (see tessera models)`);
    for (const path of model.paths) {
      await rm(path, { force: true });
      await rm(path + PARTIAL_SUFFIX, { force: true });
    }
    await rm(this.manifestPath(model.id), { force: true });
    return model;
  }

  /** A stored file by name, with the hash its manifest recorded (what a peer may hand out). */
  async fileWithHash(name: string): Promise<{ path: string; sizeBytes: number; sha256: string } | undefined> {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.')) return undefined;
    const manifest = await this.readManifest(modelIdOf(name));
    const entry = manifest?.files.find((file) => file.name === name && file.verified);
    if (!entry) return undefined;
    try {
      const { size } = await stat(this.pathOf(name));
      return size === entry.sizeBytes ? { path: this.pathOf(name), sizeBytes: size, sha256: entry.sha256 } : undefined;
    } catch {
      return undefined;
    }
  }

  private manifestPath(id: string): string {
    return join(this.dir, MANIFEST_DIR, `${id}.json`);
  }

  private async fileNames(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch {
      return [];
    }
  }

  private async describe(id: string, files: string[], manifest: ModelManifest | undefined): Promise<StoredModel> {
    const paths = files.map((file) => this.pathOf(file));
    let sizeBytes = 0;
    for (const path of paths) sizeBytes += (await stat(path)).size;
    const base = {
      id,
      files,
      paths,
      sizeBytes,
      repo: manifest?.repo ?? null,
      quant: quantOf(files[0]!) ?? null,
      shardLayers: manifest?.shard?.layers ?? null,
    };
    try {
      // A split model's parts are checked together: a missing or foreign part shows as the error.
      const header = await readModelHeader(paths[0]!);
      const architecture = header.metadata.get('general.architecture');
      const arch = typeof architecture === 'string' ? architecture : null;
      const blocks = arch === null ? undefined : header.metadata.get(`${arch}.block_count`);
      const layers = header.metadata.get(SHARD_LAYERS_KEY);
      const shardLayers =
        base.shardLayers ?? (layers !== undefined && ArrayBuffer.isView(layers) && layers.length === 2 ? ([layers[0]!, layers[1]!] as const) : null);
      const quant = base.quant ?? fileTypeName(header.metadata.get('general.file_type'));
      return { ...base, architecture: arch, quant, layerCount: typeof blocks === 'number' ? blocks : null, shardLayers, error: null };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ...base, architecture: null, layerCount: null, error: `unreadable: ${reason}` };
    }
  }
}

/** llama.cpp's `general.file_type` numbers (LLAMA_FTYPE_*) to their usual names. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 32: 'BF16',
};

function fileTypeName(value: unknown): string | null {
  return typeof value === 'number' ? (FILE_TYPES[value] ?? null) : null;
}
