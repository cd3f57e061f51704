// The model store: catalog fit, hub downloads (resumable, verified, per-shard), peers, local files.
export * from './model-ref.js';
export * from './model-store.js';
export * from './pull-model.js';
export * from './hub-client.js';
export * from './shard-file.js';
export * from './import-model.js';
export * from './download-file.js';
export * from './disk-space.js';
export * from './progress-meter.js';
export type { RangeSource } from './range-source.js';
export * from './download-manager.js';
