// The engine's public API: load a model (or a layer range of one) into a worker thread, generate,
// or run pipeline steps for the mesh. See engine.ts.
export { Engine, CLOSE_TIMEOUT_MS, type EngineLoadHooks, type EngineLoadOptions, type ForwardShardRequest, type GenerateRequest } from './engine.js';
export type {
  BackendKind,
  FinishReason,
  ForwardOutput,
  GenerateEvent,
  GenerationTiming,
  GenerationUsage,
  ModelInfo,
  TokenLogprobs,
} from './worker/protocol.js';
export type { SamplingParams } from './sampling/sampler.js';
