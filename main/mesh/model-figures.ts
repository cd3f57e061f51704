// The planner's view of a model file: layer count, weight bytes per layer, on the first shard (token
// embeddings) and on the head (output norm and head), the KV cache per token, and the hidden size. Read from the GGUF header alone (no weights), so a node
// can preview a plan for a file before loading anything.
import type { GGUFHeader } from '../engine/gguf/types.js';
import { readConfig } from '../engine/model/config.js';
import type { PlannerModel } from './planner.js';

/** The engine keeps keys and values in f32. */
const KV_BYTES_PER_VALUE = 4;
/** Hidden states travel as f16 between nodes of this version (see ShardHostOptions.hiddenStateDtype). */
export const ACTIVATION_BYTES = 2;

const LAYER_TENSOR = /^blk\.(\d+)\./;

export function plannerModelFromHeader(header: GGUFHeader, contextLength: number): PlannerModel {
  const config = readConfig(header);
  let layerBytes = 0;
  let headBytes = 0;
  let embeddingBytes = 0;
  let outputComputeBytes = 0;
  for (const tensor of header.tensors) {
    if (LAYER_TENSOR.test(tensor.name)) layerBytes += tensor.byteLength;
    else if (tensor.name === 'token_embd.weight') embeddingBytes = tensor.byteLength;
    else headBytes += tensor.byteLength;
    if (tensor.name === 'output.weight') outputComputeBytes = tensor.byteLength;
  }
  // Tied embeddings: the head's output is the embedding table, so the head holds and streams it too.
  const tiedEmbeddings = outputComputeBytes === 0;
  if (tiedEmbeddings) {
    outputComputeBytes = embeddingBytes;
    headBytes += embeddingBytes;
  }
  return {
    layerCount: config.n_layers,
    // Layers differ only by rounding in llama-family files: plan with their mean.
    bytesPerLayer: Math.ceil(layerBytes / config.n_layers),
    headBytes,
    embeddingBytes,
    tiedEmbeddings,
    outputComputeBytes,
    kvBytesPerTokenPerLayer: 2 * config.n_kv_heads * config.head_dim * KV_BYTES_PER_VALUE,
    contextLength,
    hiddenSize: config.dim,
    activationBytes: ACTIVATION_BYTES,
  };
}
