// ggml tensor type numbers (as in GGUF and main/engine/gguf/types.ts).
export const F32: i32 = 0;
export const F16: i32 = 1;
export const Q4_0: i32 = 2;
export const Q8_0: i32 = 8;
export const Q4_K: i32 = 12;
export const Q5_K: i32 = 13;
export const Q6_K: i32 = 14;
export const BF16: i32 = 30;

/**
 * Bytes of one weight row's quants/values as the kernels store it (scales of Q4_0 live apart).
 * Not for Q8_0, whose rows are interleaved eight at a time (matmul-q8_0.ts).
 */
export function rowBytes(type: i32, cols: i32): usize {
  switch (type) {
    case F32: return <usize>cols << 2;
    case F16: case BF16: return <usize>cols << 1;
    case Q4_0: return <usize>cols >> 1;
    case Q4_K: return <usize>(cols >> 8) * 128;
    case Q5_K: return <usize>(cols >> 8) * 176;
    case Q6_K: return <usize>(cols >> 8) * 210;
  }
  return 0;
}

/** Bytes of one row's separate scales: f16 per block (Q4_0), 20 per super-block (Q4_K), else 0. */
export function rowScaleBytes(type: i32, cols: i32): usize {
  if (type == Q4_K) return <usize>(cols >> 8) * 20;
  return type == Q4_0 ? <usize>(cols >> 5) << 1 : 0;
}
