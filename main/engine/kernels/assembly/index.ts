// Entry of kernels.wasm. Every thread instantiates this module over the same shared memory; the
// calling thread writes an op and its arguments into the control block and each lane calls
// runOp(control, lane, nLanes). The layout below is mirrored in ../kernel-abi.ts: change both.
//
// control block (u32 words):  [0] generation  [16] done count  [17] error flag
//                             [32] op  [33..] arguments (u32, f32 where noted)

import { attention, add, addBias, rmsnorm, rope, swiglu } from './ops';
import { embed } from './dequantize';
import { matmul } from './matmul';
import { quantizeRows } from './quantize';

export const OP_QUANTIZE: i32 = 1;
export const OP_MATMUL: i32 = 2;
export const OP_EMBED: i32 = 3;
export const OP_RMSNORM: i32 = 4;
export const OP_ADD_BIAS: i32 = 5;
export const OP_ADD: i32 = 6;
export const OP_SWIGLU: i32 = 7;
export const OP_ROPE: i32 = 8;
export const OP_ATTENTION: i32 = 9;

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

export function runOp(control: usize, lane: i32, nLanes: i32): void {
  switch (load<i32>(control + 128)) {
    case OP_QUANTIZE:
      quantizeRows(u(control, 0), u(control, 1), u(control, 2), u(control, 3), i(control, 4), i(control, 5), lane, nLanes);
      break;
    case OP_MATMUL:
      matmul(
        i(control, 0), u(control, 1), u(control, 2), i(control, 3), i(control, 4),
        u(control, 5), u(control, 6), u(control, 7), u(control, 8), u(control, 9), i(control, 10), lane, nLanes,
      );
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
      rope(u(control, 0), i(control, 1), i(control, 2), i(control, 3), i(control, 4), f(control, 5), i(control, 6) != 0, lane, nLanes);
      break;
    case OP_ATTENTION:
      attention(
        u(control, 0), u(control, 1), u(control, 2), u(control, 3),
        i(control, 4), i(control, 5), i(control, 6), i(control, 7), i(control, 8), f(control, 9), lane, nLanes,
      );
      break;
    default:
      unreachable();
  }
}
