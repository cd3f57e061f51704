// Per-shard download of a split GGUF (gguf-split's `-0000i-of-0000N.gguf` parts) through the real
// `@huggingface/hub` client against the local test hub: the shard is one ordinary GGUF, it
// computes what the whole model does for its layers, and the bytes fetched are that shard's share.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readGGUFModel } from '../engine/gguf/model-files.js';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { INITIAL_HEADER_READ_BYTES, readGGUFHeader } from '../engine/gguf/reader.js';
import { SPLIT_COUNT_KEY } from '../engine/gguf/split-model.js';
import type { GGUFHeader } from '../engine/gguf/types.js';
import { Engine } from '../engine/index.js';
import { ModelStore } from './model-store.js';
import { pullModel } from './pull-model.js';
import { LATER_PART_HEADER_READ_BYTES, shardLayersOf } from './shard-file.js';
import { TestHub } from './test-hub.js';

const FAST_RETRY = { retries: 2, baseDelayMs: 10, maxDelayMs: 20 };
const REPO = 'tessera-test/Tiny8-Split-GGUF';
const LAYERS = 8;

let dir: string;
let wholePath: string;
let partPaths: readonly string[];
let partHeaders: GGUFHeader[];
/** Each part's sha256 (the test hub's content address) and size, in part order. */
let partFiles: { sha256: string; sizeBytes: number }[];
let hub: TestHub;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-split-shard-'));
  const options = { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: LAYERS, seed: 3 } as const;
  wholePath = join(dir, 'whole.gguf');
  await writeRandomModel(wholePath, options);
  partPaths = (await writeRandomModel(join(dir, 'Tiny8-Q8_0.gguf'), { ...options, split: 3 })).paths;
  partHeaders = await Promise.all(partPaths.map((path) => readGGUFHeader(path)));
  const partBytes = await Promise.all(partPaths.map((path) => readFile(path)));
  partFiles = partBytes.map((bytes) => ({ sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: bytes.byteLength }));
  hub = new TestHub();
  hub.addRepo(REPO, { files: partPaths.map((path, index) => ({ path: basename(path), bytes: partBytes[index]! })) });
  await hub.listen();
});
after(async () => {
  await hub.close();
  await rm(dir, { recursive: true, force: true });
});

/** Bytes the hub was asked for, per part (by content hash), split into header and tensor-data reads. */
function fetchedFromHub(since: number): { header: number; data: number; partsWithData: number } {
  let header = 0;
  let data = 0;
  const partsWithData = new Set<number>();
  for (const request of hub.requests.slice(since)) {
    const content = /^\/content\/([0-9a-f]{64})$/.exec(request.path);
    if (!content || request.method !== 'GET') continue;
    const part = partFiles.findIndex((file) => file.sha256 === content[1]);
    const size = partFiles[part]!.sizeBytes;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] !== '' ? Number(range[2]) + 1 : size;
    if (start >= partHeaders[part]!.dataOffset) {
      data += end - start;
      partsWithData.add(part);
    } else header += end - start;
  }
  return { header, data, partsWithData: partsWithData.size };
}

const tensorBytes = (headers: readonly GGUFHeader[], wanted: (name: string) => boolean): number =>
  headers.flatMap((header) => header.tensors).reduce((sum, tensor) => sum + (wanted(tensor.name) ? tensor.byteLength : 0), 0);

describe('per-shard download of a split model', () => {
  it('fetches a quarter of the layers from whichever parts hold them: about a quarter of the layer bytes', async () => {
    const store = new ModelStore(await mkdtemp(join(dir, 'store-')));
    const since = hub.requests.length;
    const shard = await pullModel({ ref: { repo: REPO }, layers: [2, 4], store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
    assert.equal(shard.manifest.id, 'Tiny8-Q8_0.layers-2-4');
    assert.deepEqual(shard.manifest.shard?.sourceFile, basename(partPaths[0]!));

    const fetched = fetchedFromHub(since);
    const allLayerBytes = tensorBytes(partHeaders, (name) => name.startsWith('blk.'));
    const shareBytes = tensorBytes(partHeaders, (name) => /^blk\.[23]\./.test(name));
    assert.equal(shareBytes * 4, allLayerBytes, 'two of eight equal layers are a quarter');
    assert.ok(fetched.partsWithData >= 2, 'layers 2 and 3 lie in more than one part of this model');
    // Tensor data: the share itself plus at most an alignment pad per part.
    assert.equal(fetched.data, shard.downloadedBytes);
    assert.ok(fetched.data >= shareBytes && fetched.data <= shareBytes + 3 * 32, `${fetched.data} bytes of data for a share of ${shareBytes}`);
    // Headers: each read by doubling from a small first read, so at most twice each header.
    const headerBudget = partHeaders.reduce(
      (sum, header, index) => sum + Math.max(index === 0 ? INITIAL_HEADER_READ_BYTES : LATER_PART_HEADER_READ_BYTES, 2 * header.dataOffset),
      0,
    );
    assert.ok(fetched.header <= headerBudget, `${fetched.header} header bytes, budget ${headerBudget}`);
    // And the headline: far under a quarter of the whole model's bytes (no embeddings here).
    const modelBytes = partFiles.reduce((sum, file) => sum + file.sizeBytes, 0);
    assert.ok(fetched.header + fetched.data < modelBytes / 4, `${fetched.header + fetched.data} of ${modelBytes}`);

    // One ordinary file: no split keys, only the shard's tensors, listed as a shard.
    const header = await readGGUFHeader(shard.paths[0]!);
    assert.equal(header.metadata.get(SPLIT_COUNT_KEY), undefined);
    assert.equal((await readGGUFModel(shard.paths[0]!)).isSplit, false);
    assert.deepEqual(shardLayersOf(header), [2, 4]);
    assert.ok(header.tensors.every((tensor) => /^blk\.[23]\./.test(tensor.name)));
    assert.equal(header.tensors.length, partHeaders.flatMap((part) => part.tensors).filter((tensor) => /^blk\.[23]\./.test(tensor.name)).length);
    const listed = await store.list();
    assert.deepEqual(listed.map((model) => [model.id, model.shardLayers, model.error]), [['Tiny8-Q8_0.layers-2-4', [2, 4], null]]);
    assert.deepEqual((await readdir(store.dir)).filter((name) => !name.startsWith('.')), ['Tiny8-Q8_0.layers-2-4.gguf']);
  });

  it('shards cut from the parts compute what the whole model does, the output head included', async () => {
    const store = new ModelStore(await mkdtemp(join(dir, 'store-')));
    const pull = (layers: readonly [number, number]) => pullModel({ ref: { repo: REPO }, layers, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
    const middle = await pull([2, 4]);
    const last = await pull([4, 8]);
    // Bytes from the wrong part or offset anywhere in either shard would change the logits.
    const head = await Engine.load({ path: wholePath, layers: [0, 2], threads: 1 });
    const wholeRest = await Engine.load({ path: wholePath, layers: [2, 8], threads: 1 });
    const shardMiddle = await Engine.load({ path: middle.paths[0]!, layers: [2, 4], threads: 1 });
    const shardLast = await Engine.load({ path: last.paths[0]!, layers: [4, 8], threads: 1 });
    try {
      const hidden = await head.forwardShard({ sequence: 's', position: 0, input: Int32Array.from([1, 2, 3, 4]) });
      const expected = await wholeRest.forwardShard({ sequence: 's', position: 0, input: hidden.data });
      const between = await shardMiddle.forwardShard({ sequence: 's', position: 0, input: hidden.data });
      assert.equal(between.kind, 'hidden');
      const actual = await shardLast.forwardShard({ sequence: 's', position: 0, input: between.data });
      assert.equal(actual.kind, 'logits');
      assert.equal(expected.kind, 'logits');
      assert.deepEqual(actual.data, expected.data);
    } finally {
      await Promise.all([head, wholeRest, shardMiddle, shardLast].map((engine) => engine.close()));
    }
  });
});
