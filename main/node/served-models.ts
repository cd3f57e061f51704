// The models this node serves through its APIs, by id. Loading starts an engine (a worker
// thread holding the weights); unloading closes it.

import { TesseraError } from '../../shared/errors.js';
import type { ModelCatalog } from '../api/chat/chat-service.js';
import { loadServedModel, modelIdFromPath, type ServedModel } from '../api/chat/served-model.js';
import type { EngineLoadOptions } from '../engine/index.js';
import { meterGeneratedTokens } from './metered-generation.js';

export class ServedModels implements ModelCatalog {
  private readonly models = new Map<string, ServedModel>();
  private readonly loading = new Map<string, Promise<ServedModel>>();

  /** Loads a model for serving; the cluster replaces it to plan models over the mesh. */
  #loader: (options: EngineLoadOptions & { id: string }) => Promise<ServedModel> = loadServedModel;

  /** `onToken` is called for each token a model loaded here generates (the node's live rate). */
  constructor(
    private readonly defaults: Omit<EngineLoadOptions, 'path'> = {},
    private readonly options: { onToken?: () => void } = {},
  ) {}

  setLoader(loader: (options: EngineLoadOptions & { id: string }) => Promise<ServedModel>): void {
    this.#loader = loader;
  }

  /** Serves a model whose engine lives elsewhere (another node's); replaces one of the same id that does too. */
  addRemote(model: ServedModel): void {
    const existing = this.models.get(model.id);
    if (existing !== undefined && existing.headNodeId === undefined) return; // a local model wins
    this.models.set(model.id, model);
  }

  /** Stops serving a model another node ran (it left or withdrew it). */
  removeRemote(id: string, headNodeId: string): void {
    if (this.models.get(id)?.headNodeId === headNodeId) this.models.delete(id);
  }

  get(id: string): ServedModel | undefined {
    return this.models.get(id);
  }

  list(): readonly ServedModel[] {
    return [...this.models.values()];
  }

  /** Loads a GGUF file; its id is the file name without `.gguf`. Loading the same id twice is refused. */
  async load(path: string, options: Omit<EngineLoadOptions, 'path'> = {}): Promise<ServedModel> {
    const id = modelIdFromPath(path);
    if ((this.models.has(id) && this.models.get(id)!.headNodeId === undefined) || this.loading.has(id)) {
      throw new TesseraError('REQUEST_INVALID', `a model with id "${id}" is already loaded`);
    }
    const pending = this.#loader({ ...this.defaults, ...options, path, id });
    this.loading.set(id, pending);
    try {
      const model = await pending;
      // Remote models are counted by the node that runs them.
      if (this.options.onToken !== undefined && model.headNodeId === undefined) meterGeneratedTokens(model.engine, this.options.onToken);
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
