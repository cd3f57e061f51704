// The one embedding path every dialect runs (OpenAI's /v1/embeddings, Ollama's /api/embed):
// checks that the model is an embedding model, embeds a batch in the engine, truncates to the
// asked `dimensions` and L2-normalizes (as llama.cpp's server and Ollama do).

import { TesseraError } from '../../../shared/errors.js';
import type { ChatService } from '../chat/chat-service.js';

/** Inputs one request may embed (the engine embeds them one after another). */
export const MAX_EMBEDDING_INPUTS = 256;

export interface EmbeddingBatch {
  /** One unit-length vector per input, in order. */
  readonly vectors: Float32Array[];
  /** Tokens of all inputs together. */
  readonly promptTokens: number;
  readonly durationMs: number;
}

/**
 * Embeds `inputs` (texts, or token ids used as they are) with `modelId`. `dimensions` keeps the
 * first that many values before normalizing (Matryoshka truncation, which Qwen3-Embedding is
 * trained for); any width from 1 to the model's is allowed.
 */
export async function embedBatch(
  service: ChatService,
  modelId: string,
  inputs: readonly (string | readonly number[])[],
  dimensions?: number,
): Promise<EmbeddingBatch> {
  const model = service.model(modelId);
  const info = model.engine.info;
  if (info.pooling === undefined) {
    throw new TesseraError(
      'REQUEST_INVALID',
      `The model "${model.id}" is a chat model, not an embedding model: its GGUF names no pooling type (${info.architecture}.pooling_type). Load an embedding model such as Qwen3-Embedding.`,
      { param: 'model' },
    );
  }
  if (inputs.length === 0) throw new TesseraError('REQUEST_INVALID', 'input must not be empty.', { param: 'input' });
  if (inputs.length > MAX_EMBEDDING_INPUTS) {
    throw new TesseraError('REQUEST_INVALID', `input has ${inputs.length} entries; at most ${MAX_EMBEDDING_INPUTS} per request.`, { param: 'input' });
  }
  if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > info.dim)) {
    throw new TesseraError('REQUEST_INVALID', `dimensions must be an integer from 1 to ${info.dim} for "${model.id}".`, { param: 'dimensions' });
  }
  for (const input of inputs) {
    if (typeof input !== 'string' && input.some((token) => !Number.isInteger(token) || token < 0 || token >= info.vocabSize)) {
      throw new TesseraError('REQUEST_INVALID', `token ids must be integers from 0 to ${info.vocabSize - 1}.`, { param: 'input' });
    }
  }
  const started = performance.now();
  const result = await model.engine.embed(inputs);
  return {
    vectors: result.vectors.map((vector) => normalized(vector.subarray(0, dimensions ?? vector.length))),
    promptTokens: result.tokenCounts.reduce((sum, count) => sum + count, 0),
    durationMs: performance.now() - started,
  };
}

function normalized(vector: Float32Array): Float32Array {
  let sumSquares = 0;
  for (const value of vector) sumSquares += value * value;
  const scale = sumSquares > 0 ? 1 / Math.sqrt(sumSquares) : 0;
  return vector.map((value) => value * scale);
}
