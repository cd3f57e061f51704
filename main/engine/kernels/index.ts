export { WasmBackend, type WasmBackendOptions } from './wasm-backend.js';
export { SUPPORTED_WEIGHT_TYPES, ggufWeightBytes } from './weight-layout.js';
