// A node gets a model file from a peer that already has it, without asking the hub; a peer with
// a bad copy is caught by the hash and the hub is the fallback.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
