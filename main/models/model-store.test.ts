// The store lists a split GGUF as one model, and a split model with a part gone as an error for
// that model alone, naming the missing part (real files from the project's writer).
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import { ModelStore } from './model-store.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-store-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const TINY = { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 2 } as const;

it('lists a split model as one model, and one with a missing part as an error naming it', async () => {
  const store = new ModelStore(join(root, 'models'));
  await mkdir(store.dir);
  const { paths } = await writeRandomModel(store.pathOf('Tiny-Split-Q8_0.gguf'), { ...TINY, split: 3 });
  await writeRandomModel(store.pathOf('Tiny-Whole-Q8_0.gguf'), TINY);

  const complete = await store.list();
  assert.deepEqual(
    complete.map((model) => [model.id, model.files.length, model.layerCount, model.error]),
    [
      ['Tiny-Split-Q8_0', 3, 2, null],
      ['Tiny-Whole-Q8_0', 1, 2, null],
    ],
  );

  // The middle part gone: still one entry, its error names the missing file; the other model is untouched.
  await rm(paths[1]!);
  const [split, whole] = await store.list();
  assert.equal(split!.id, 'Tiny-Split-Q8_0');
  assert.deepEqual(split!.files, ['Tiny-Split-Q8_0-00001-of-00003.gguf', 'Tiny-Split-Q8_0-00003-of-00003.gguf']);
  assert.equal(split!.layerCount, null);
  assert.match(split!.error ?? '', /Tiny-Split-Q8_0-00002-of-00003\.gguf/);
  assert.deepEqual([whole!.id, whole!.error], ['Tiny-Whole-Q8_0', null]);

  // The first part gone too (the entry now starts at part 3): still an error naming what is missing.
  await rm(paths[0]!);
  const [onlyLast] = await store.list();
  assert.deepEqual(onlyLast!.files, ['Tiny-Split-Q8_0-00003-of-00003.gguf']);
  assert.match(onlyLast!.error ?? '', /Tiny-Split-Q8_0-00001-of-00003\.gguf/);
  // Removing the broken model takes what is left of it.
  await store.remove('Tiny-Split-Q8_0');
  assert.deepEqual((await store.list()).map((model) => model.id), ['Tiny-Whole-Q8_0']);
});
