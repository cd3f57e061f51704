// Pulls through the real `@huggingface/hub` client against a local server that answers like the hub.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { Engine } from '../engine/index.js';
import { ModelStore } from './model-store.js';
import { pullModel } from './pull-model.js';
import { TestHub } from './test-hub.js';
import { readGGUFHeader } from '../engine/gguf/reader.js';
import { shardLayersOf } from './shard-file.js';

const FAST_RETRY = { retries: 2, baseDelayMs: 10, maxDelayMs: 20 };
const REPO = 'tessera-test/Tiny-Qwen3-GGUF';

let dir: string;
let model: Uint8Array;
let model4: Uint8Array;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-pull-'));
  await writeRandomModel(join(dir, 'tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true });
  await writeRandomModel(join(dir, 'tiny4.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 4 });
  model = await readFile(join(dir, 'tiny.gguf'));
  model4 = await readFile(join(dir, 'tiny4.gguf'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withHub<T>(options: ConstructorParameters<typeof TestHub>[0], use: (hub: TestHub, store: ModelStore) => Promise<T>): Promise<T> {
  const hub = new TestHub(options);
  hub.addRepo(REPO, {
    files: [
      { path: 'README.md', bytes: new TextEncoder().encode('# tiny') },
      { path: 'Tiny-Qwen3-Q8_0.gguf', bytes: model },
      { path: 'Tiny-Qwen3-Q4_K_M.gguf', bytes: model },
      { path: 'split/Tiny-Qwen3-F16-00001-of-00002.gguf', bytes: model.subarray(0, 1000) },
      { path: 'split/Tiny-Qwen3-F16-00002-of-00002.gguf', bytes: model.subarray(1000, 3000) },
      { path: 'Tiny4-Qwen3-Q8_0.gguf', bytes: model4 },
    ],
  });
  hub.addRepo('tessera-test/gated', { files: [{ path: 'g-Q4_K_M.gguf', bytes: model.subarray(0, 100) }], gatedToken: 'hf_secret' });
  await hub.listen();
  const store = new ModelStore(await mkdtemp(join(dir, 'store-')));
  try {
    return await use(hub, store);
  } finally {
    await hub.close();
  }
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('pullModel', () => {
  it('pulls the Q4_K_M file by default, verified, with no partial left', async () => {
    await withHub({}, async (hub, store) => {
      const progress: number[] = [];
      const result = await pullModel({
        ref: { repo: REPO },
        store,
        hub: { hubUrl: hub.url },
        retry: FAST_RETRY,
        onEvent: (event) => event.type === 'progress' && progress.push(event.receivedBytes),
      });
      assert.deepEqual(result.manifest.files.map((file) => file.name), ['Tiny-Qwen3-Q4_K_M.gguf']);
      assert.equal(result.manifest.files[0]!.verified, true);
      assert.equal(sha(await readFile(result.paths[0]!)), sha(model));
      assert.equal(progress.at(-1), model.byteLength);
      assert.deepEqual((await readdir(store.dir)).filter((name) => !name.startsWith('.')), ['Tiny-Qwen3-Q4_K_M.gguf']);
      const [listed] = await store.list();
      assert.equal(listed!.architecture, 'qwen3');
      assert.equal(listed!.quant, 'Q4_K_M');
      assert.equal(listed!.repo, REPO);
      // Pulling again downloads nothing.
      const before = hub.contentRequests().filter((request) => request.path.startsWith('/content/')).length;
      const again = await pullModel({ ref: { repo: REPO }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      assert.equal(again.downloadedBytes, 0);
      assert.equal(hub.contentRequests().filter((request) => request.path.startsWith('/content/')).length, before);
    });
  });

  it('takes every part of a split GGUF as one model', async () => {
    await withHub({}, async (hub, store) => {
      const result = await pullModel({ ref: { repo: REPO, file: 'split/Tiny-Qwen3-F16-00002-of-00002.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      assert.equal(result.manifest.id, 'Tiny-Qwen3-F16');
      assert.deepEqual(result.manifest.files.map((file) => file.sizeBytes), [1000, 2000]);
      const listed = await store.list();
      assert.equal(listed.length, 1);
      assert.equal(listed[0]!.files.length, 2);
      await store.remove('Tiny-Qwen3-F16');
      assert.deepEqual((await readdir(store.dir)).filter((name) => name.endsWith('.gguf')), []);
    });
  });

  it('continues a partial file with a Range request', async () => {
    await withHub({}, async (hub, store) => {
      await writeFile(store.pathOf('Tiny-Qwen3-Q8_0.gguf.partial'), model.subarray(0, 123_457));
      const result = await pullModel({ ref: { repo: REPO, file: 'Tiny-Qwen3-Q8_0.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      assert.equal(result.downloadedBytes, model.byteLength - 123_457);
      assert.ok(hub.requests.some((request) => request.range === 'bytes=123457-' + (model.byteLength - 1)), JSON.stringify(hub.contentRequests()));
      assert.equal(sha(await readFile(result.paths[0]!)), sha(model));
    });
  });

  it('rides out a dropped connection, resuming where it broke', async () => {
    await withHub({ dropAfterBytes: 300_000 }, async (hub, store) => {
      const result = await pullModel({ ref: { repo: REPO, file: 'Tiny-Qwen3-Q8_0.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      assert.equal(sha(await readFile(result.paths[0]!)), sha(model));
      assert.ok(hub.requests.some((request) => /^bytes=[1-9]\d*-/.test(request.range ?? '')), 'a ranged request continued the download');
    });
  });

  it('catches a corrupted byte: downloads again, and never keeps a bad file', async () => {
    await withHub({ corruptOffset: 4096, corruptResponses: 1 }, async (hub, store) => {
      const result = await pullModel({ ref: { repo: REPO, file: 'Tiny-Qwen3-Q8_0.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      assert.equal(sha(await readFile(result.paths[0]!)), sha(model));
    });
    await withHub({ corruptOffset: 4096 }, async (hub, store) => {
      await assert.rejects(
        pullModel({ ref: { repo: REPO, file: 'Tiny-Qwen3-Q8_0.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY }),
        { code: 'DOWNLOAD_HASH_MISMATCH' },
      );
      assert.deepEqual((await readdir(store.dir)).filter((name) => name.includes('gguf')), []);
    });
  });

  it('re-downloads a corrupt local file rather than keeping it', async () => {
    await withHub({}, async (hub, store) => {
      const damaged = Uint8Array.from(model);
      damaged[5000] = damaged[5000]! ^ 1;
      await writeFile(store.pathOf('Tiny-Qwen3-Q8_0.gguf'), damaged);
      const result = await pullModel({ ref: { repo: REPO, file: 'Tiny-Qwen3-Q8_0.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      assert.equal(result.downloadedBytes, model.byteLength);
      assert.equal(sha(await readFile(result.paths[0]!)), sha(model));
    });
  });

  it('fails with one clear error for unknown repos and files, gated repos, a full disk and a dead network', async () => {
    await withHub({}, async (hub, store) => {
      const hubSettings = { hubUrl: hub.url, retry: FAST_RETRY };
      await assert.rejects(pullModel({ ref: { repo: 'nobody/nothing' }, store, hub: hubSettings }), { code: 'HUB_NOT_FOUND' });
      await assert.rejects(pullModel({ ref: { repo: REPO, file: 'nope.gguf' }, store, hub: hubSettings }), { code: 'HUB_NOT_FOUND', message: /Tiny-Qwen3-Q8_0\.gguf/ });
      await assert.rejects(pullModel({ ref: { repo: 'tessera-test/gated' }, store, hub: hubSettings }), { code: 'HUB_UNAUTHORIZED', message: /HF_TOKEN/ });
      const gated = await pullModel({ ref: { repo: 'tessera-test/gated' }, store, hub: { ...hubSettings, accessToken: 'hf_secret' } });
      assert.equal(gated.manifest.files[0]!.verified, true);
      await assert.rejects(
        pullModel({ ref: { repo: REPO, file: 'Tiny-Qwen3-Q8_0.gguf' }, store, hub: hubSettings, freeSpace: async () => 1000 }),
        { code: 'DISK_FULL' },
      );
      const url = hub.url;
      await hub.close();
      await assert.rejects(pullModel({ ref: { repo: REPO }, store, hub: { hubUrl: url, retry: FAST_RETRY } }), { code: 'HUB_UNREACHABLE' });
    });
  });
});

describe('per-shard download', () => {
  it('fetches only a layer range, and the shard computes what the whole file does for those layers', async () => {
    await withHub({}, async (hub, store) => {
      const whole = await pullModel({ ref: { repo: REPO, file: 'Tiny4-Qwen3-Q8_0.gguf' }, store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      const middle = await pullModel({ ref: { repo: REPO, file: 'Tiny4-Qwen3-Q8_0.gguf' }, layers: [1, 3], store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      // Two of four layers and no embeddings: well under half the file.
      assert.ok(middle.downloadedBytes < model4.byteLength / 4, `${middle.downloadedBytes} of ${model4.byteLength}`);
      assert.deepEqual(shardLayersOf(await readGGUFHeader(middle.paths[0]!)), [1, 3]);
      const listed = (await store.list()).find((entry) => entry.id === middle.manifest.id);
      assert.deepEqual(listed?.shardLayers, [1, 3]);

      const first = await pullModel({ ref: { repo: REPO, file: 'Tiny4-Qwen3-Q8_0.gguf' }, layers: [0, 1], store, hub: { hubUrl: hub.url }, retry: FAST_RETRY });
      const wholeEngine = await Engine.load({ path: whole.paths[0]!, layers: [1, 3], threads: 1 });
      const firstEngine = await Engine.load({ path: first.paths[0]!, layers: [0, 1], threads: 1 });
      const shardEngine = await Engine.load({ path: middle.paths[0]!, layers: [1, 3], threads: 1 });
      try {
        const hidden = await firstEngine.forwardShard({ sequence: 's', position: 0, input: Int32Array.from([1, 2, 3, 4]) });
        assert.equal(hidden.kind, 'hidden');
        const expected = await wholeEngine.forwardShard({ sequence: 's', position: 0, input: hidden.data });
        const actual = await shardEngine.forwardShard({ sequence: 's', position: 0, input: hidden.data });
        assert.equal(actual.rows, 4);
        assert.deepEqual(actual.data, expected.data);
      } finally {
        await Promise.all([wholeEngine.close(), firstEngine.close(), shardEngine.close()]);
      }
    });
  });
});
