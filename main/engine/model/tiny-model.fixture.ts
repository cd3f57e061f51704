// Tests only: a tiny llama-family model with seeded random weights, held in memory as a GGUF
// header plus a tensor reader, so forward-pass tests need no file and no writer.

import { quantize } from '../gguf/quant.js';
import { GGMLType, type GGUFHeader, type GGUFTensorInfo, type GGUFValue } from '../gguf/types.js';
import type { LlamaArchitecture } from './config.js';
import type { TensorReader } from './llama.js';

export interface TinyModelOptions {
  architecture?: LlamaArchitecture;
  layers?: number;
  dim?: number;
  hiddenDim?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  vocab?: number;
  type?: GGMLType;
  tiedEmbeddings?: boolean;
  seed?: number;
}

export interface TinyModel {
  header: GGUFHeader;
  readTensor: TensorReader;
  /** Names of the tensors read so far, in order. */
  reads: string[];
}

/** xorshift32 uniform values in [-scale, scale). */
function random(seed: number): (scale: number) => number {
  let state = seed >>> 0 || 1;
  return (scale) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return ((state / 2 ** 32) * 2 - 1) * scale;
  };
}

export function tinyModel(options: TinyModelOptions = {}): TinyModel {
  const arch = options.architecture ?? 'llama';
  const layers = options.layers ?? 4;
  const dim = options.dim ?? 64;
  const hiddenDim = options.hiddenDim ?? 128;
  const heads = options.heads ?? 4;
  const kvHeads = options.kvHeads ?? 2;
  const headDim = options.headDim ?? dim / heads;
  const vocab = options.vocab ?? 96;
  const type = options.type ?? GGMLType.F32;
  const next = random(options.seed ?? 1234);

  const metadata = new Map<string, GGUFValue>([
    ['general.architecture', arch],
    [`${arch}.block_count`, layers],
    [`${arch}.embedding_length`, dim],
    [`${arch}.feed_forward_length`, hiddenDim],
    [`${arch}.attention.head_count`, heads],
    [`${arch}.attention.head_count_kv`, kvHeads],
    [`${arch}.attention.key_length`, headDim],
    [`${arch}.attention.value_length`, headDim],
    [`${arch}.attention.layer_norm_rms_epsilon`, 1e-6],
    [`${arch}.rope.freq_base`, 10000],
    [`${arch}.context_length`, 256],
  ]);
  const tensors: GGUFTensorInfo[] = [];
  const bytes = new Map<string, Uint8Array>();
  let offset = 0;
  const add = (name: string, dims: number[], tensorType: GGMLType, scale: number, centre = 0): void => {
    const values = new Float32Array(dims.reduce((a, b) => a * b, 1)).map(() => centre + next(scale));
    const encoded = quantize(tensorType, values);
    tensors.push({ name, dims, type: tensorType, offset, byteLength: encoded.length });
    bytes.set(name, encoded);
    offset += encoded.length;
  };
  const qDim = heads * headDim;
  const kvDim = kvHeads * headDim;
  add('token_embd.weight', [dim, vocab], type, 1);
  for (let l = 0; l < layers; l++) {
    const p = `blk.${l}.`;
    add(`${p}attn_norm.weight`, [dim], GGMLType.F32, 0.2, 1);
    add(`${p}attn_q.weight`, [dim, qDim], type, 0.3);
    add(`${p}attn_k.weight`, [dim, kvDim], type, 0.3);
    add(`${p}attn_v.weight`, [dim, kvDim], type, 0.3);
    if (arch === 'qwen2') {
      add(`${p}attn_q.bias`, [qDim], GGMLType.F32, 0.2);
      add(`${p}attn_k.bias`, [kvDim], GGMLType.F32, 0.2);
      add(`${p}attn_v.bias`, [kvDim], GGMLType.F32, 0.2);
    }
    if (arch === 'qwen3') {
      add(`${p}attn_q_norm.weight`, [headDim], GGMLType.F32, 0.2, 1);
      add(`${p}attn_k_norm.weight`, [headDim], GGMLType.F32, 0.2, 1);
    }
    add(`${p}attn_output.weight`, [qDim, dim], type, 0.3);
    add(`${p}ffn_norm.weight`, [dim], GGMLType.F32, 0.2, 1);
    add(`${p}ffn_gate.weight`, [dim, hiddenDim], type, 0.3);
    add(`${p}ffn_up.weight`, [dim, hiddenDim], type, 0.3);
    add(`${p}ffn_down.weight`, [hiddenDim, dim], type, 0.3);
  }
  add('output_norm.weight', [dim], GGMLType.F32, 0.2, 1);
  if (!options.tiedEmbeddings) add('output.weight', [dim, vocab], type, 0.3);

  const reads: string[] = [];
  const readTensor: TensorReader = (info) => {
    reads.push(info.name);
    return bytes.get(info.name)!;
  };
  return { header: { version: 3, metadata, tensors, dataOffset: 0, alignment: 32 }, readTensor, reads };
}
