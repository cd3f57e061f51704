// The shapes of a GGUF file as Tessera sees it. The reader produces them, the writer consumes
// them, and the engine, tokenizer and model store read metadata through them.

/** ggml tensor types, numbered as in the GGUF format. Only the ones Tessera can run are named. */
export enum GGMLType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  BF16 = 30,
}

/** Elements per block and bytes per block of each tensor type. */
export const GGML_BLOCK: Readonly<Record<GGMLType, { elements: number; bytes: number }>> = {
  [GGMLType.F32]: { elements: 1, bytes: 4 },
  [GGMLType.F16]: { elements: 1, bytes: 2 },
  [GGMLType.BF16]: { elements: 1, bytes: 2 },
  [GGMLType.Q8_0]: { elements: 32, bytes: 34 },
  [GGMLType.Q4_0]: { elements: 32, bytes: 18 },
  [GGMLType.Q4_K]: { elements: 256, bytes: 144 },
  [GGMLType.Q5_K]: { elements: 256, bytes: 176 },
  [GGMLType.Q6_K]: { elements: 256, bytes: 210 },
};

/** GGUF metadata value type tags, as in the file. */
export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/**
 * A metadata value. Integers up to 2^53 are numbers; UINT64/INT64 become bigint only when
 * they do not fit. Arrays of numbers are kept typed where the file's element type allows,
 * because vocabularies hold 150k entries.
 */
export type GGUFValue =
  | number
  | bigint
  | boolean
  | string
  | readonly string[]
  | readonly boolean[]
  | Int32Array
  | Uint32Array
  | Float32Array
  | readonly number[]
  | readonly GGUFValue[];

/** Metadata keyed exactly as in the file, e.g. `general.architecture`, `qwen3.block_count`. */
export type GGUFMetadata = ReadonlyMap<string, GGUFValue>;

export interface GGUFTensorInfo {
  /** e.g. `blk.3.attn_q.weight`, `token_embd.weight`, `output_norm.weight`. */
  readonly name: string;
  /** ggml order: dims[0] is the fastest-moving (a row's length), as in the file. */
  readonly dims: readonly number[];
  readonly type: GGMLType;
  /** Byte offset from the start of the file (already including the data section's start). */
  readonly offset: number;
  readonly byteLength: number;
}

export interface GGUFHeader {
  readonly version: number;
  readonly metadata: GGUFMetadata;
  readonly tensors: readonly GGUFTensorInfo[];
  /** Byte offset where the tensor data section starts. */
  readonly dataOffset: number;
  /** `general.alignment`, 32 when absent. */
  readonly alignment: number;
}
