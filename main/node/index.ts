export { createNode, type TesseraNode } from './node.js';
export { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, defaultNodeConfig, defaultUiDir, type NodeConfig } from './config.js';
export { defaultDataDir, expandHome, prepareDataDir } from './data-dir.js';
export { loadOrCreateIdentity, type NodeIdentity } from './identity.js';
export { loadOrCreateToken } from './token.js';
export { readDeviceInfo, DeviceSampler, DEVICE_SAMPLE_INTERVAL_MS } from './device.js';
export { tesseraVersion, packageRoot } from './version.js';
