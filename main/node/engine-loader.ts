// The one place this node asks the engine for load progress, so the Shards page's per-device bars
// have a single seam to the engine: `Engine.load(options, { onProgress })` calls
// `onProgress(loadedBytes, totalBytes)` as weights go into memory (0 first, the total last).
import type { ServedModel } from '../api/chat/served-model.js';
import { modelIdFromPath, serve } from '../api/chat/served-model.js';
import { Engine, type EngineLoadOptions } from '../engine/index.js';

/** Told the weight bytes loaded so far and in all, as the engine reads them. */
export type LoadProgressListener = (loadedBytes: number, totalBytes: number) => void;

/** Loads an engine, passing the engine's byte counts to `onProgress`. */
export function loadEngine(options: EngineLoadOptions, onProgress?: LoadProgressListener): Promise<Engine> {
  return onProgress === undefined ? Engine.load(options) : Engine.load(options, { onProgress });
}

/** `loadServedModel` (main/api/chat/served-model.ts) with load progress. */
export async function loadServedModelWithProgress(options: EngineLoadOptions & { id?: string }, onProgress?: LoadProgressListener): Promise<ServedModel> {
  const { id, ...engineOptions } = options;
  const engine = await loadEngine(engineOptions, onProgress);
  return serve(engine, id ?? modelIdFromPath(options.path));
}
