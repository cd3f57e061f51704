// The models this node serves through its APIs, by id. Loading starts an engine (a worker
// thread holding the weights); unloading closes it.

import { TesseraError } from '../../shared/errors.js';
import type { ModelCatalog } from '../api/chat/chat-service.js';
import { loadServedModel, modelIdFromPath, type ServedModel } from '../api/chat/served-model.js';
import type { EngineLoadOptions } from '../engine/index.js';

export class ServedModels implements ModelCatalog {
  private readonly models = new Map<string, ServedModel>();
  private readonly loading = new Map<string, Promise<ServedModel>>();

  constructor(private readonly defaults: Omit<EngineLoadOptions, 'path'> = {}) {}

  get(id: string): ServedModel | undefined {
    return this.models.get(id);
  }

  list(): readonly ServedModel[] {
    return [...this.models.values()];
  }

  /** Loads a GGUF file; its id is the file name without `.gguf`. Loading the same id twice is refused. */
  async load(path: string, options: Omit<EngineLoadOptions, 'path'> = {}): Promise<ServedModel> {
    const id = modelIdFromPath(path);
    if (this.models.has(id) || this.loading.has(id)) {
      throw new TesseraError('REQUEST_INVALID', `a model with id "${id}" is already loaded`);
    }
    const pending = loadServedModel({ ...this.defaults, ...options, path, id });
    this.loading.set(id, pending);
    try {
      const model = await pending;
      this.models.set(id, model);
      return model;
    } finally {
      this.loading.delete(id);
    }
  }

  async unload(id: string): Promise<void> {
    const model = this.models.get(id);
    if (model === undefined) throw new TesseraError('MODEL_NOT_FOUND', `no model "${id}" is loaded`);
    this.models.delete(id);
    await model.engine.close();
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
    const all = [...this.models.values()];
    this.models.clear();
    await Promise.allSettled(all.map((model) => model.engine.close()));
  }
}
