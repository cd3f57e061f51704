export { Mesh, DEFAULT_MESH_HOST, type MeshConfig, type MeshEvents, type MeshTopology, type PeerSummary } from './mesh.js';
export { plan, usableMemoryBytes, PLAN_HEADROOM_BYTES, PLAN_HEADROOM_FRACTION, PLAN_MAX_NODES, type PlannerDevice, type PlannerLink, type PlannerModel, type PlannerOptions } from './planner.js';
export { generateJoinSecret, normalizeJoinSecret, loadOrCreateJoinSecret, derivePresharedKey } from './join-secret.js';
export { loadOrCreateStaticKeyPair, nodeIdFromPublicKey } from './keys.js';
export { parsePeerAddress, formatPeerAddress } from './peer-address.js';
export { multicastLoopbackWorks, type DiscoveryOptions } from './discovery.js';
