// What a node hands out to peers that ask for a model file: the verified files of its model store,
// and the files of the plans it leads (a peer told to run a shard of one may lack it). A plan's
// file may have come from anywhere (`--model path`), so its sha256 is computed here, once per
// file version, when a peer first asks.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { hashOf } from '../models/pull-model.js';
import type { ModelFileLookup } from '../models/peer-transfer.js';

interface Registered {
  readonly path: string;
  hashed?: { size: number; mtimeMs: number; sha256: Promise<string> };
}

export class SharedModelFiles implements ModelFileLookup {
  readonly #store: ModelFileLookup;
  readonly #registered = new Map<string, Registered>();

  constructor(store: ModelFileLookup) {
    this.#store = store;
  }

  /** Lets peers fetch `path` by its file name; returns that name. */
  share(path: string): string {
    const name = basename(path);
    if (this.#registered.get(name)?.path !== path) this.#registered.set(name, { path });
    return name;
  }

  async fileWithHash(name: string): Promise<{ path: string; sizeBytes: number; sha256: string } | undefined> {
    const fromStore = await this.#store.fileWithHash(name);
    if (fromStore !== undefined) return fromStore;
    const entry = this.#registered.get(name);
    if (entry === undefined) return undefined;
    let info;
    try {
      info = await stat(entry.path);
    } catch {
      return undefined;
    }
    // A file rewritten in place gets hashed again.
    if (entry.hashed === undefined || entry.hashed.size !== info.size || entry.hashed.mtimeMs !== info.mtimeMs) {
      const hashed = { size: info.size, mtimeMs: info.mtimeMs, sha256: hashOf(entry.path) };
      hashed.sha256.catch(() => entry.hashed === hashed && (entry.hashed = undefined)); // try again next time
      entry.hashed = hashed;
    }
    return { path: entry.path, sizeBytes: info.size, sha256: await entry.hashed.sha256 };
  }
}
