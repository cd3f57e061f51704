// How each GGUF weight type is laid out in wasm memory for the kernels (see assembly/types.ts);
// the repacking itself runs in wasm (assembly/repack.ts).
// Q8_0 is repacked into rows interleaved eight at a time (quants and f16 block scales in separate
// arrays; rows padded to a multiple of eight, see assembly/matmul-q8_0.ts). Q4_0 is repacked: each
// row's quants become contiguous and the f16 block scales move to a separate array, same bytes. Q4_K is split into its nibbles (128 bytes per super-block)
// and a 20-byte record per super-block with the 6-bit scale/min pairs unpacked to bytes (4 bytes
// more than GGUF's 144). The other types keep their GGUF bytes.
import { TesseraError } from '../../../shared/errors.js';
import { GGML_BLOCK, GGMLType } from '../gguf/types.js';

export const SUPPORTED_WEIGHT_TYPES: readonly GGMLType[] = [
  GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
];

export interface WeightLayout {
  /** Bytes of the quants/values array. */
  readonly valueBytes: number;
  /** Bytes of the separate scales array (0 when scales stay inside the blocks). */
  readonly scaleBytes: number;
  /** Bytes of the GGUF encoding. */
  readonly ggufBytes: number;
}

export function weightLayout(type: GGMLType, rows: number, cols: number): WeightLayout {
  const block = GGML_BLOCK[type];
  if (!SUPPORTED_WEIGHT_TYPES.includes(type) || block === undefined) {
    throw new TesseraError('MODEL_UNSUPPORTED_TENSOR_TYPE', `the wasm kernels do not support ggml type ${type}`);
  }
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0 || cols % block.elements !== 0) {
    throw new TesseraError('KERNEL_BAD_ARGUMENT', `a ${GGMLType[type]} weight cannot be ${rows} x ${cols}: cols must be a multiple of ${block.elements}`);
  }
  const ggufBytes = rows * (cols / block.elements) * block.bytes;
  if (type === GGMLType.Q8_0) {
    const paddedRows = Math.ceil(rows / Q8_0_ROW_GROUP) * Q8_0_ROW_GROUP;
    return { valueBytes: paddedRows * cols, scaleBytes: paddedRows * (cols / 32) * 2, ggufBytes };
  }
  if (type === GGMLType.Q4_0) {
    const scaleBytes = rows * (cols / 32) * 2;
    return { valueBytes: ggufBytes - scaleBytes, scaleBytes, ggufBytes };
  }
  if (type === GGMLType.Q4_K) {
    const superBlocks = rows * (cols / 256);
    return { valueBytes: superBlocks * 128, scaleBytes: superBlocks * Q4_K_META_BYTES, ggufBytes };
  }
  return { valueBytes: ggufBytes, scaleBytes: 0, ggufBytes };
}

/** Rows the Q8_0 layout interleaves. */
const Q8_0_ROW_GROUP = 8;

/** Repacked Q4_K record per super-block: d f16, dmin f16, scale u8[8], min u8[8]. */
const Q4_K_META_BYTES = 20;

/** Bytes of the GGUF encoding of a rows x cols matrix. */
export function ggufWeightBytes(type: GGMLType, rows: number, cols: number): number {
  return weightLayout(type, rows, cols).ggufBytes;
}

/**
 * Whether the repack kernel (assembly/repack.ts) places a weight's GGUF blocks into its own layout;
 * the other types' GGUF bytes are copied as they are.
 */
export function isRepacked(type: GGMLType): boolean {
  return type === GGMLType.Q8_0 || type === GGMLType.Q4_0 || type === GGMLType.Q4_K;
}
