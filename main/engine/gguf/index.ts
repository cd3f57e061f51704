// GGUF files: reading headers and tensors, writing files, block (de)quantization, random models.
export * from './types.js';
export { dequantize, dequantizeInto, quantize, tensorByteLength, isSupportedType, QK_K } from './quant.js';
export { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16 } from './half.js';
export { ggmlTypeName, ggmlTensorBytes } from './tensor-types.js';
export * from './reader.js';
export * from './metadata.js';
export * from './layers.js';
export { writeGGUF, typed, type TypedValue, type WriteValue, type TensorToWrite, type TensorData, type GGUFWriteInput, type WrittenGGUF } from './writer.js';
export * from './split-model.js';
export { GGUFModelFiles, readGGUFModel, readModelHeader } from './model-files.js';
export { writeSplitGGUF, splitTensors, type WrittenSplitGGUF } from './split-writer.js';
