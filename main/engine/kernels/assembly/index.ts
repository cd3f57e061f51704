// Entry of kernels.wasm. Every thread instantiates this module over the same shared memory; the
// calling thread writes an op and its arguments into the control block and each lane calls
// runOp(control, lane, nLanes). The layout below is mirrored in ../kernel-abi.ts: change both.
//
// control block (u32 words):  [0] generation  [1] arena of the op  (both read by the host only)
//                             [16] chunks done  [17] error flag  [18] claim: tag << 20 | next chunk
//                             [19] chunk count  [32] op  [33..] arguments (u32, f32 where noted)
// A lane calls runOp(control, tag): it claims chunks while the claim word carries its tag and
// runs each as the (chunk, nChunks) share of the op — what the kernels call (lane, nLanes).

import { attention, add, addBias, rmsnorm, rope, swiglu } from './ops';
import { embed } from './dequantize';
import { matmulShare } from './matmul';
export { matmulScratchBytes } from './matmul';
import { quantizeRows, quantizeRowsQ8_K } from './quantize';
import { repackBlocks, storeKv, toHalf } from './repack';

export const OP_QUANTIZE: i32 = 1;
export const OP_MATMUL: i32 = 2;
export const OP_EMBED: i32 = 3;
export const OP_RMSNORM: i32 = 4;
export const OP_ADD_BIAS: i32 = 5;
export const OP_ADD: i32 = 6;
export const OP_SWIGLU: i32 = 7;
export const OP_ROPE: i32 = 8;
export const OP_ATTENTION: i32 = 9;
export const OP_QUANTIZE_K: i32 = 10;
export const OP_REPACK: i32 = 11;
export const OP_TO_HALF: i32 = 12;
export const OP_STORE_KV: i32 = 13;

/** 1 when built with relaxed SIMD (q8_K activations are int8), else 0. */
export const RELAXED_SIMD: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0;

@inline function u(control: usize, index: i32): u32 {
  return load<u32>(control + 132 + (<usize>index << 2));
}

@inline function f(control: usize, index: i32): f32 {
  return load<f32>(control + 132 + (<usize>index << 2));
}

@inline function i(control: usize, index: i32): i32 {
  return load<i32>(control + 132 + (<usize>index << 2));
}

/** Start of the memory the host may allocate from (past this module's static data). */
export function heapBase(): usize {
  return __heap_base;
}

const CLAIM_TAG_SHIFT: u32 = 20;
const CLAIM_INDEX_MASK: u32 = (1 << CLAIM_TAG_SHIFT) - 1;

/** Claims and runs chunks of the posted op until none is left or the op is no longer `tag`'s. */
export function runOp(control: usize, tag: u32): i32 {
  let ran = 0;
  while (true) {
    const claim = atomic.load<u32>(control + 72);
    if (claim >> CLAIM_TAG_SHIFT != tag) return ran;
    // Read after the tag check: while our tag is on the claim word the op cannot change.
    const nChunks = atomic.load<i32>(control + 76);
    const chunk = <i32>(claim & CLAIM_INDEX_MASK);
    if (chunk >= nChunks) return ran;
    if (atomic.cmpxchg<u32>(control + 72, claim, claim + 1) != claim) continue;
    runChunk(control, chunk, nChunks);
    ran++;
    if (atomic.add<i32>(control + 64, 1) == nChunks - 1) atomic.notify(control + 64);
  }
  return ran;
}

/** Does share `lane` of `nLanes` of the posted op. */
function runChunk(control: usize, lane: i32, nLanes: i32): void {
  switch (load<i32>(control + 128)) {
    case OP_QUANTIZE:
      quantizeRows(u(control, 0), u(control, 1), u(control, 2), u(control, 3), i(control, 4), i(control, 5), i(control, 6) != 0, lane, nLanes);
      break;
    case OP_QUANTIZE_K:
      quantizeRowsQ8_K(u(control, 0), u(control, 1), u(control, 2), u(control, 3), i(control, 4), i(control, 5), lane, nLanes);
      break;
    case OP_MATMUL:
      matmulShare(control + 132, lane, nLanes);
      break;
    case OP_EMBED:
      embed(i(control, 0), u(control, 1), u(control, 2), i(control, 3), u(control, 4), i(control, 5), u(control, 6), lane, nLanes);
      break;
    case OP_RMSNORM:
      rmsnorm(u(control, 0), u(control, 1), u(control, 2), i(control, 3), i(control, 4), f(control, 5), lane, nLanes);
      break;
    case OP_ADD_BIAS:
      addBias(u(control, 0), u(control, 1), i(control, 2), i(control, 3), lane, nLanes);
      break;
    case OP_ADD:
      add(u(control, 0), u(control, 1), u(control, 2), i(control, 3), lane, nLanes);
      break;
    case OP_SWIGLU:
      swiglu(u(control, 0), u(control, 1), u(control, 2), i(control, 3), lane, nLanes);
      break;
    case OP_ROPE:
      rope(u(control, 0), i(control, 1), i(control, 2), i(control, 3), i(control, 4), f(control, 5), i(control, 6) != 0, u(control, 7), lane, nLanes);
      break;
    case OP_ATTENTION:
      attention(
        u(control, 0), u(control, 1), u(control, 2), u(control, 3),
        i(control, 4), i(control, 5), i(control, 6), i(control, 7), i(control, 8), f(control, 9), i(control, 10) != 0, u(control, 11), i(control, 12), i(control, 13), i(control, 14), i(control, 15), lane, nLanes,
      );
      break;
    case OP_REPACK:
      repackBlocks(i(control, 0), u(control, 1), i(control, 2), u(control, 3), u(control, 4), i(control, 5), i(control, 6), lane, nLanes);
      break;
    case OP_TO_HALF:
      toHalf(u(control, 0), u(control, 1), i(control, 2), lane, nLanes);
      break;
    case OP_STORE_KV:
      storeKv(u(control, 0), u(control, 1), i(control, 2), i(control, 3), i(control, 4), i(control, 5), i(control, 6), i(control, 7) != 0, lane, nLanes);
      break;
    default:
      unreachable();
  }
}
