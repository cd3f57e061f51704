// A node gets a model file from a peer that already has it, without asking the hub; a peer with
// a bad copy is caught by the hash and the hub is the fallback.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { ModelStore } from './model-store.js';
import { peerFileSource, serveModelFiles, type ModelFileReply, type ModelFileRequest, type PeerChannel } from './peer-transfer.js';
import { pullModel } from './pull-model.js';
import { TestHub } from './test-hub.js';

const REPO = 'tessera-test/Tiny-GGUF';
const FILE = 'Tiny-Q8_0.gguf';
let root: string;
let model: Uint8Array;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-peer-'));
  await writeRandomModel(join(root, 'tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 1 });
  model = await readFile(join(root, 'tiny.gguf'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Two ends of a link; messages arrive asynchronously and copied, as over a socket. */
function link(): { client: PeerChannel<ModelFileRequest, ModelFileReply>; server: PeerChannel<ModelFileReply, ModelFileRequest> } {
  const toServer = new Set<(message: ModelFileRequest) => void>();
  const toClient = new Set<(message: ModelFileReply) => void>();
  const deliver = <T>(listeners: Set<(message: T) => void>, message: T): void => {
    const copy = structuredClone(message);
    setImmediate(() => listeners.forEach((listener) => listener(copy)));
  };
  return {
    client: { send: (message) => deliver(toServer, message), onMessage: (listener) => (toClient.add(listener), () => void toClient.delete(listener)) },
    server: { send: (message) => deliver(toClient, message), onMessage: (listener) => (toServer.add(listener), () => void toServer.delete(listener)) },
  };
}

it('the second node gets its file from the first, and the hub is not consulted', async () => {
  const hub = new TestHub();
  hub.addRepo(REPO, { files: [{ path: FILE, bytes: model }] });
  await hub.listen();
  try {
    const first = new ModelStore(join(root, 'a'));
    await pullModel({ ref: { repo: REPO, file: FILE }, store: first, hub: { hubUrl: hub.url } });
    const hubRequests = hub.requests.length;

    const { client, server } = link();
    const stopServing = serveModelFiles(first, server);
    const second = new ModelStore(join(root, 'b'));
    const sources: string[] = [];
    const result = await pullModel({
      ref: { repo: REPO, file: FILE },
      store: second,
      hub: { hubUrl: hub.url },
      peerSource: (name) => peerFileSource(client, name, 'node-a'),
      onEvent: (event) => event.type === 'file-done' && sources.push(event.source),
    });
    stopServing();
    assert.deepEqual(sources, ['peer']);
    assert.equal(hub.requests.length, hubRequests, 'the hub saw no request from the second node');
    assert.equal(result.manifest.files[0]!.verified, true);
    assert.equal(createHash('sha256').update(await readFile(result.paths[0]!)).digest('hex'), createHash('sha256').update(model).digest('hex'));
    assert.equal(await peerFileSource(client, 'absent.gguf', 'node-a', 500), undefined);
  } finally {
    await hub.close();
  }
});

it('a peer with a damaged copy is caught by the hash; the hub supplies the file', async () => {
  const hub = new TestHub();
  hub.addRepo(REPO, { files: [{ path: FILE, bytes: model }] });
  await hub.listen();
  try {
    const first = new ModelStore(join(root, 'c'));
    await pullModel({ ref: { repo: REPO, file: FILE }, store: first, hub: { hubUrl: hub.url } });
    const handle = await open(first.pathOf(FILE), 'r+');
    await handle.write(Uint8Array.of(0xaa, 0x55), 0, 2, 2048);
    await handle.close();

    const { client, server } = link();
    const stopServing = serveModelFiles(first, server);
    const second = new ModelStore(join(root, 'd'));
    const sources: string[] = [];
    const result = await pullModel({
      ref: { repo: REPO, file: FILE },
      store: second,
      hub: { hubUrl: hub.url },
      peerSource: (name) => peerFileSource(client, name, 'node-c'),
      onEvent: (event) => event.type === 'file-done' && sources.push(event.source),
    });
    stopServing();
    assert.deepEqual(sources, ['hub']);
    assert.equal(createHash('sha256').update(await readFile(result.paths[0]!)).digest('hex'), createHash('sha256').update(model).digest('hex'));
  } finally {
    await hub.close();
  }
});

it('a per-shard pull of a split model reads its parts from a peer that holds them, and the rest from the hub', async () => {
  const SPLIT_REPO = 'tessera-test/Tiny-Split-GGUF';
  await mkdir(join(root, 'split'));
  const partPaths = (await writeRandomModel(join(root, 'split', 'Tiny-Split-Q8_0.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, split: 3 })).paths;
  const partBytes = await Promise.all(partPaths.map((path) => readFile(path)));
  const partSha = partBytes.map((bytes) => createHash('sha256').update(bytes).digest('hex'));
  const hub = new TestHub();
  hub.addRepo(SPLIT_REPO, { files: partPaths.map((path, index) => ({ path: basename(path), bytes: partBytes[index]! })) });
  await hub.listen();
  // Content reads by part hash; the hub client's 1-byte probe (its file-info request) is not one.
  const contentReadsSince = (since: number): string[] =>
    hub.requests
      .slice(since)
      .filter((request) => request.method === 'GET' && request.path.startsWith('/content/') && request.range !== 'bytes=0-0')
      .map((request) => request.path.slice('/content/'.length));
  try {
    const holder = new ModelStore(join(root, 'split-holder'));
    await pullModel({ ref: { repo: SPLIT_REPO }, store: holder, hub: { hubUrl: hub.url } });
    const fromHub = await pullModel({ ref: { repo: SPLIT_REPO }, layers: [1, 2], store: new ModelStore(join(root, 'split-hub')), hub: { hubUrl: hub.url } });
    const { client, server } = link();
    const stopServing = serveModelFiles(holder, server);
    const pullFromPeer = async (store: ModelStore): Promise<{ sha256: string; sources: string[]; hubReads: string[] }> => {
      const since = hub.requests.length;
      const sources: string[] = [];
      const result = await pullModel({
        ref: { repo: SPLIT_REPO },
        layers: [1, 2],
        store,
        hub: { hubUrl: hub.url },
        peerSource: (name) => peerFileSource(client, name, 'node-a', 500),
        onEvent: (event) => event.type === 'file-done' && sources.push(event.source),
      });
      return { sha256: createHash('sha256').update(await readFile(result.paths[0]!)).digest('hex'), sources, hubReads: contentReadsSince(since) };
    };
    const hubShard = createHash('sha256').update(await readFile(fromHub.paths[0]!)).digest('hex');

    // Every part at the peer: not one byte of content from the hub, and the same shard file.
    const allFromPeer = await pullFromPeer(new ModelStore(join(root, 'split-peer')));
    assert.deepEqual(allFromPeer.sources, ['peer']);
    assert.deepEqual(allFromPeer.hubReads, []);
    assert.equal(allFromPeer.sha256, hubShard);

    // The peer lost its last part (which holds the output norm this range needs): that part alone comes from the hub.
    await rm(holder.pathOf(basename(partPaths[2]!)));
    const mixed = await pullFromPeer(new ModelStore(join(root, 'split-mixed')));
    stopServing();
    assert.deepEqual(mixed.sources, ['peer']);
    assert.ok(mixed.hubReads.length > 0);
    assert.deepEqual(new Set(mixed.hubReads), new Set([partSha[2]]));
    assert.equal(mixed.sha256, hubShard);

    // A peer that says it holds the parts but then sends nothing: the hub finishes the shard.
    const silent = link();
    const stopSilent = serveModelFiles(holder, { ...silent.server, send: (message) => message.type !== 'model-file-data' && silent.server.send(message) });
    const since = hub.requests.length;
    const sources: string[] = [];
    const rescued = await pullModel({
      ref: { repo: SPLIT_REPO },
      layers: [1, 2],
      store: new ModelStore(join(root, 'split-rescued')),
      hub: { hubUrl: hub.url },
      retry: { retries: 1, baseDelayMs: 10, maxDelayMs: 10 },
      peerSource: (name) => peerFileSource(silent.client, name, 'node-silent', 300),
      onEvent: (event) => event.type === 'file-done' && sources.push(event.source),
    });
    stopSilent();
    assert.deepEqual(sources, ['hub']);
    assert.ok(contentReadsSince(since).includes(partSha[0]!));
    assert.equal(createHash('sha256').update(await readFile(rescued.paths[0]!)).digest('hex'), hubShard);
  } finally {
    await hub.close();
  }
});
