// Model files over two real meshes on loopback (real sockets, real Noise): a node pulls a file its
// peer holds without the hub seeing a file request, fetches only a layer range of a peer's file
// as a loadable per-shard GGUF, and refuses a piece that does not match the peer's hash.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import { MESH_FEATURES, type MeshMessage } from '../../shared/mesh-protocol.js';
import { readGGUFHeader } from '../engine/gguf/reader.js';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { Engine } from '../engine/index.js';
import { ModelStore } from '../models/model-store.js';
import { pullModel } from '../models/pull-model.js';
import { shardLayersOf } from '../models/shard-file.js';
import { TestHub } from '../models/test-hub.js';
import { Mesh, type MeshConfig } from './mesh.js';
import { fetchShardFromPeer, findPeerFile, serveFilesOverMesh, type PeerFilesMesh } from './peer-files.js';

const REPO = 'tessera-test/Tiny-GGUF';
const FILE = 'Tiny-Q8_0.gguf';
const SPLIT_REPO = 'tessera-test/Tiny-Split-GGUF';
const SPLIT_PARTS = [1, 2, 3].map((n) => `TinySplit-Q8_0-0000${n}-of-00003.gguf`);
let root: string;
let model: Uint8Array;
let hub: TestHub;
let serving: Mesh;
let asking: Mesh;
let stopServing: () => void;
let servingStore: ModelStore;

async function startMesh(name: string, overrides: Partial<MeshConfig> = {}): Promise<Mesh> {
  return Mesh.start({
    dataDir: join(root, `mesh-${name}`),
    name,
    host: '127.0.0.1',
    port: 0,
    joinSecret: 'tessera-test-secret-files',
    discovery: false,
    bandwidthProbeIntervalMs: 0,
    ...overrides,
  });
}

async function connected(mesh: Mesh, nodeId: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (mesh.peer(nodeId) === undefined) {
    if (Date.now() > deadline) throw new Error('the meshes did not connect');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-peer-files-'));
  await writeRandomModel(join(root, 'tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 4 });
  model = await readFile(join(root, 'tiny.gguf'));
  const { paths: splitPaths } = await writeRandomModel(join(root, 'TinySplit-Q8_0.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 4, split: 3 });
  hub = new TestHub();
  hub.addRepo(REPO, { files: [{ path: FILE, bytes: model }] });
  hub.addRepo(SPLIT_REPO, { files: await Promise.all(splitPaths.map(async (path, i) => ({ path: SPLIT_PARTS[i]!, bytes: await readFile(path) }))) });
  await hub.listen();
  servingStore = new ModelStore(join(root, 'serving-store'));
  await pullModel({ ref: { repo: REPO, file: FILE }, store: servingStore, hub: { hubUrl: hub.url } });
  await pullModel({ ref: { repo: SPLIT_REPO, file: SPLIT_PARTS[0]! }, store: servingStore, hub: { hubUrl: hub.url } });

  serving = await startMesh('serving');
  asking = await startMesh('asking', { peers: [`127.0.0.1:${serving.port}`] });
  await connected(asking, serving.nodeId);
  await connected(serving, asking.nodeId);
  stopServing = serveFilesOverMesh(serving, servingStore);
});

after(async () => {
  stopServing?.();
  await Promise.allSettled([serving?.stop(), asking?.stop(), hub?.close()]);
  await rm(root, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Layers [1, 3) at `path` load and turn a hidden state into a finite one. */
async function assertMiddleShardRuns(path: string): Promise<void> {
  const engine = await Engine.load({ path, layers: [1, 3], threads: 1, contextLength: 64 });
  try {
    const output = await engine.forwardShard({ sequence: 's', position: 0, input: new Float32Array(engine.info.dim).fill(0.5) });
    assert.equal(output.kind, 'hidden');
    assert.ok([...output.data].every(Number.isFinite));
  } finally {
    await engine.close();
  }
}

describe('model files over the mesh', () => {
  it('a node pulls a file its peer holds; the hub sees no file request', async () => {
    const before = hub.requests.length;
    const store = new ModelStore(join(root, 'asking-store'));
    const sources: string[] = [];
    const result = await pullModel({
      ref: { repo: REPO, file: FILE },
      store,
      hub: { hubUrl: hub.url },
      peerSource: (name) => findPeerFile(asking, name),
      onEvent: (event) => event.type === 'file-done' && sources.push(event.source),
    });
    assert.deepEqual(sources, ['peer']);
    assert.deepEqual(hub.requests.slice(before), [], 'the hub saw no request at all');
    assert.equal(result.manifest.files[0]!.verified, true);
    assert.equal(sha256(await readFile(result.paths[0]!)), sha256(model));
    assert.equal(await findPeerFile(asking, 'absent-Q8_0.gguf', 2_000), undefined);
  });

  it('a node fetches only its layer range from a peer, and the shard loads', async () => {
    const destination = join(root, 'asking-shard', 'tiny.layers-1-3.gguf');
    await mkdir(join(root, 'asking-shard'), { recursive: true });
    const result = await fetchShardFromPeer(asking, serving.nodeId, FILE, [1, 3], destination);
    assert.equal(result.sha256, sha256(model));
    const size = (await stat(destination)).size;
    assert.ok(size < model.byteLength * 0.75, `a middle shard (${size} bytes) is well under the whole file (${model.byteLength})`);
    assert.deepEqual(shardLayersOf(await readGGUFHeader(destination)), [1, 3]);
    await assertMiddleShardRuns(destination);
  });

  it('a layer range of a split model comes from the parts that hold it, as one loadable shard', async () => {
    const destination = join(root, 'asking-shard', 'tiny-split.layers-1-3.gguf');
    await mkdir(join(root, 'asking-shard'), { recursive: true });
    const result = await fetchShardFromPeer(asking, serving.nodeId, SPLIT_PARTS[1]!, [1, 3], destination);
    assert.equal(result.sha256, undefined, 'a split model has no one hash');
    const header = await readGGUFHeader(destination);
    assert.deepEqual(shardLayersOf(header), [1, 3]);
    assert.equal(header.metadata.get('split.count'), undefined, 'the shard is a single file');
    await assertMiddleShardRuns(destination);
  });

  it('a piece that does not match the peer hash is refused', async () => {
    // The asking side sees every model-file-data frame with one byte flipped.
    const tampering: PeerFilesMesh = {
      nodeId: asking.nodeId,
      send: (nodeId, message) => asking.send(nodeId, message),
      on: (event, listener) =>
        asking.on(event, (payload) => {
          const { message } = payload as { message?: MeshMessage };
          if (event === 'message' && message?.type === 'model-file-data' && message.data.byteLength > 0) {
            const data = Uint8Array.from(message.data);
            data[0] = data[0]! ^ 0xff;
            (listener as (value: unknown) => void)({ ...payload, message: { ...message, data } });
            return;
          }
          (listener as (value: unknown) => void)(payload);
        }),
      peers: () => asking.peers(),
      peerSupports: (nodeId, feature) => asking.peerSupports(nodeId, feature),
      bufferedBytes: (nodeId) => asking.bufferedBytes(nodeId),
    };
    await assert.rejects(
      fetchShardFromPeer(tampering, serving.nodeId, FILE, [0, 1], join(root, 'tampered.gguf')),
      (error) => isTesseraError(error, 'PEER_TRANSFER_FAILED'),
    );
  });

  it('asks only peers that announced model files', async () => {
    const older = await startMesh('older', { peers: [`127.0.0.1:${serving.port}`], features: [] });
    try {
      await connected(serving, older.nodeId);
      assert.equal(serving.peerSupports(older.nodeId, MESH_FEATURES.modelFiles), false);
      assert.equal(serving.peerSupports(asking.nodeId, MESH_FEATURES.modelFiles), true);
      // The older node is never asked (a real one would close the link on a message it does not know).
      const seen: string[] = [];
      const off = older.on('message', ({ message }) => seen.push(message.type));
      assert.equal(await findPeerFile(serving, FILE, 1_000), undefined);
      off();
      assert.ok(!seen.includes('model-file-info'), `the older node was asked: ${seen.join(', ')}`);
    } finally {
      await older.stop();
    }
  });
});
