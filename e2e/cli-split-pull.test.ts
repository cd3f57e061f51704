// `tessera pull`, `models` and `rm` on a split GGUF (name-00001-of-00003.gguf …), as a user runs
// them against a hub (the local test hub via HF_ENDPOINT): a layer range becomes one shard file,
// the whole model is listed once, and a missing part is that model's error, naming the part.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { readGGUFHeader } from '../main/engine/gguf/reader.js';
import { writeRandomModel } from '../main/engine/gguf/random-model.js';
import { TestHub } from '../main/models/test-hub.js';
import { runTessera } from './support/tessera-process.js';

const REPO = 'tessera-test/Tiny-Split-GGUF';
const TIMEOUT_MS = 60_000;

let scratch: string;
let hub: TestHub;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tessera-split-pull-e2e-'));
  await mkdir(join(scratch, 'hub'));
  const { paths } = await writeRandomModel(join(scratch, 'hub', 'Tiny-Split-Q8_0.gguf'), {
    preset: 'qwen3-0.6b',
    format: 'Q8_0',
    tiny: true,
    layers: 2,
    split: 3,
  });
  hub = new TestHub();
  hub.addRepo(REPO, { files: await Promise.all(paths.map(async (path) => ({ path: basename(path), bytes: await readFile(path) }))) });
  await hub.listen();
});
after(async () => {
  await hub.close();
  await rm(scratch, { recursive: true, force: true });
});

const tessera = (...args: string[]) => runTessera([...args, '--data-dir', join(scratch, 'data')], { env: { HF_ENDPOINT: hub.url }, timeoutMs: TIMEOUT_MS });

test('pull --layers on a split model stores one shard file; the whole model lists once; a lost part is its error', async () => {
  const shard = await tessera('pull', REPO, '--layers', '1:2');
  assert.equal(shard.code, 0, shard.stderr);
  const models = join(scratch, 'data', 'models');
  assert.deepEqual((await readdir(models)).filter((name) => name.endsWith('.gguf')), ['Tiny-Split-Q8_0.layers-1-2.gguf']);
  const header = await readGGUFHeader(join(models, 'Tiny-Split-Q8_0.layers-1-2.gguf'));
  assert.equal(header.metadata.get('split.count'), undefined, 'a shard is one file');

  const whole = await tessera('pull', REPO);
  assert.equal(whole.code, 0, whole.stderr);
  const listed = await tessera('models');
  assert.equal(listed.code, 0, listed.stderr);
  const rows = listed.stdout.trim().split('\n');
  assert.equal(rows.length, 3, listed.stdout);
  assert.match(rows[1]!, /^Tiny-Split-Q8_0\s.*qwen3\s+Q8_0\s+2\s+3 files$/);
  assert.match(rows[2]!, /^Tiny-Split-Q8_0\.layers-1-2\s.*qwen3\s+Q8_0\s+1-2 of 2$/);

  await rm(join(models, 'Tiny-Split-Q8_0-00002-of-00003.gguf'));
  const broken = await tessera('models');
  assert.equal(broken.code, 0, broken.stderr);
  const brokenRow = broken.stdout.split('\n').find((row) => row.startsWith('Tiny-Split-Q8_0 '));
  assert.match(brokenRow ?? '', /unreadable: .*Tiny-Split-Q8_0-00002-of-00003\.gguf/);
  assert.match(broken.stdout, /Tiny-Split-Q8_0\.layers-1-2\s.*1-2 of 2/, 'the shard, one file, is unaffected');

  const removed = await tessera('rm', 'Tiny-Split-Q8_0');
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual((await readdir(models)).filter((name) => name.endsWith('.gguf')), ['Tiny-Split-Q8_0.layers-1-2.gguf']);
});
