// Split GGUF models: naming, writing N parts, finding and checking the parts from any one of
// them, and reading the same tensor bytes as from the whole file.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTesseraError } from '../../../shared/errors.js';
import { GGUFModelFiles, readGGUFModel, readModelHeader } from './model-files.js';
import { readGGUFHeader, readTensorBytes } from './reader.js';
import { parseSplitPath, splitPartPath, SPLIT_COUNT_KEY, SPLIT_NO_KEY, SPLIT_TENSORS_COUNT_KEY } from './split-model.js';
import { splitTensors, writeSplitGGUF } from './split-writer.js';
import { GGMLType, GGUFValueType } from './types.js';
import { typed, writeGGUF, type TensorToWrite } from './writer.js';

describe('split part names', () => {
  it('parses llama.cpp part names and rebuilds them', () => {
    assert.deepEqual(parseSplitPath('/m/Qwen3-8B-Q4_K_M-00002-of-00003.gguf'), { prefix: '/m/Qwen3-8B-Q4_K_M', number: 2, count: 3 });
    assert.equal(splitPartPath('/m/Qwen3-8B-Q4_K_M', 2, 3), '/m/Qwen3-8B-Q4_K_M-00002-of-00003.gguf');
    assert.equal(parseSplitPath('/m/model.gguf'), undefined);
    assert.equal(parseSplitPath('/m/model-00004-of-00003.gguf'), undefined);
    assert.equal(parseSplitPath('/m/model-0001-of-0003.gguf'), undefined);
  });

  it('cuts tensors into runs of nearly equal length, in order', () => {
    assert.deepEqual(splitTensors([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2], [3, 4], [5, 6, 7]]);
    assert.throws(() => splitTensors([1, 2], 3), (error) => isTesseraError(error, 'GGUF_INVALID'));
  });
});

/** Seven small F32 tensors with distinct contents. */
function tensors(): TensorToWrite[] {
  return Array.from({ length: 7 }, (_, i) => ({
    name: `t${i}`,
    dims: [8 + i, 2],
    type: GGMLType.F32,
    data: new Uint8Array(new Float32Array((8 + i) * 2).map((_, j) => i * 1000 + j).buffer),
  }));
}

const METADATA: [string, ReturnType<typeof typed.u32> | string][] = [
  ['general.architecture', 'test'],
  ['general.name', 'split test'],
];

describe('split GGUF files', () => {
  let dir: string;
  let whole: string;
  let prefix: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-split-'));
    whole = join(dir, 'whole.gguf');
    prefix = join(dir, 'model');
    await writeGGUF(whole, { metadata: METADATA, tensors: tensors() });
    await writeSplitGGUF(prefix, { metadata: METADATA, tensors: tensors() }, 3);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('writes gguf-split keys: all metadata in the first part, split keys typed as llama.cpp reads them', async () => {
    const first = await readGGUFHeader(splitPartPath(prefix, 1, 3));
    const third = await readGGUFHeader(splitPartPath(prefix, 3, 3));
    assert.equal(first.metadata.get('general.name'), 'split test');
    assert.deepEqual([first.metadata.get(SPLIT_NO_KEY), first.metadata.get(SPLIT_COUNT_KEY), first.metadata.get(SPLIT_TENSORS_COUNT_KEY)], [0, 3, 7]);
    assert.deepEqual([...third.metadata.keys()], [SPLIT_NO_KEY, SPLIT_COUNT_KEY, SPLIT_TENSORS_COUNT_KEY]);
    assert.equal(third.metadata.get(SPLIT_NO_KEY), 2);
    assert.deepEqual(third.tensors.map((t) => t.name), ['t4', 't5', 't6']);
  });

  for (const part of [1, 2, 3]) {
    it(`from part ${part}: one model with every tensor, each read from its own file, bytes as in the whole file`, async () => {
      const files = await GGUFModelFiles.open(splitPartPath(prefix, part, 3));
      try {
        const wholeHeader = await readGGUFHeader(whole);
        assert.equal(files.model.isSplit, true);
        assert.equal(files.model.parts.length, 3);
        assert.equal(files.header.metadata.get('general.name'), 'split test');
        assert.deepEqual(files.header.tensors.map((t) => t.name), wholeHeader.tensors.map((t) => t.name));
        assert.equal(files.model.pathOf('t5'), splitPartPath(prefix, 3, 3));
        for (const tensor of files.header.tensors) {
          const expected = await readTensorBytes(whole, wholeHeader.tensors.find((t) => t.name === tensor.name)!);
          assert.deepEqual(await files.readTensor(tensor), expected);
          const range = new Uint8Array(8);
          await files.readTensorRange(tensor, 16, range);
          assert.deepEqual(range, expected.subarray(16, 24));
        }
      } finally {
        await files.close();
      }
    });
  }

  it('a whole file is its own header, untouched', async () => {
    const model = await readGGUFModel(whole);
    assert.equal(model.isSplit, false);
    assert.deepEqual(model.header, await readGGUFHeader(whole));
    assert.equal(model.pathOf('t3'), whole);
  });

  it('readModelHeader gives the merged header of a split model', async () => {
    const header = await readModelHeader(splitPartPath(prefix, 2, 3));
    assert.equal(header.tensors.length, 7);
    assert.equal(header.metadata.get('general.name'), 'split test');
  });
});

describe('broken split models give typed errors naming the part', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-split-bad-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const writeGood = async (name: string): Promise<string> => {
    const prefix = join(dir, name);
    await writeSplitGGUF(prefix, { metadata: METADATA, tensors: tensors() }, 3);
    return prefix;
  };
  /** Replaces part `number` (1-based) of 3 with a file of the given split keys and tensors. */
  const rewritePart = async (prefix: string, number: number, keys: { no: number; count: number }, parts: TensorToWrite[]) => {
    await writeGGUF(splitPartPath(prefix, number, 3), {
      metadata: [
        [SPLIT_NO_KEY, typed.u16(keys.no)],
        [SPLIT_COUNT_KEY, typed.u16(keys.count)],
        [SPLIT_TENSORS_COUNT_KEY, typed.i32(7)],
      ],
      tensors: parts,
    });
  };
  const rejects = async (path: string, code: 'GGUF_SPLIT_PART_MISSING' | 'GGUF_SPLIT_INVALID', names: string) => {
    await assert.rejects(GGUFModelFiles.open(path), (error) => {
      assert.ok(isTesseraError(error, code), String(error));
      assert.ok(error.message.includes(names), error.message);
      return true;
    });
  };

  it('a missing part: GGUF_SPLIT_PART_MISSING naming it', async () => {
    const prefix = await writeGood('missing');
    await rm(splitPartPath(prefix, 2, 3));
    await rejects(splitPartPath(prefix, 1, 3), 'GGUF_SPLIT_PART_MISSING', splitPartPath(prefix, 2, 3));
    await rejects(splitPartPath(prefix, 3, 3), 'GGUF_SPLIT_PART_MISSING', splitPartPath(prefix, 2, 3));
  });

  it('a part whose split.count differs: GGUF_SPLIT_INVALID naming it', async () => {
    const prefix = await writeGood('count');
    await rewritePart(prefix, 3, { no: 2, count: 4 }, tensors().slice(4));
    await rejects(splitPartPath(prefix, 1, 3), 'GGUF_SPLIT_INVALID', `${splitPartPath(prefix, 3, 3)} does not fit: its split.count is 4`);
  });

  it('a part whose split.no is not its place: GGUF_SPLIT_INVALID', async () => {
    const prefix = await writeGood('number');
    await rewritePart(prefix, 2, { no: 0, count: 3 }, tensors().slice(2, 4));
    await rejects(splitPartPath(prefix, 1, 3), 'GGUF_SPLIT_INVALID', `${splitPartPath(prefix, 2, 3)} does not fit: its split.no is 0`);
  });

  it('a tensor in two parts: GGUF_SPLIT_INVALID naming the tensor and both parts', async () => {
    const prefix = await writeGood('duplicate');
    await rewritePart(prefix, 3, { no: 2, count: 3 }, tensors().slice(3));
    await rejects(splitPartPath(prefix, 1, 3), 'GGUF_SPLIT_INVALID', `tensor t3 is also in ${splitPartPath(prefix, 2, 3)}`);
  });

  it('fewer tensors than split.tensors.count: GGUF_SPLIT_INVALID', async () => {
    const prefix = await writeGood('count-tensors');
    await rewritePart(prefix, 3, { no: 2, count: 3 }, tensors().slice(5));
    await rejects(splitPartPath(prefix, 2, 3), 'GGUF_SPLIT_INVALID', 'split.tensors.count says 7 tensors, the 3 parts hold 6');
  });

  it('a part renamed so its siblings cannot be found, or a whole file named as a part', async () => {
    const prefix = await writeGood('renamed');
    const renamed = join(dir, 'renamed.gguf');
    await rename(splitPartPath(prefix, 1, 3), renamed);
    await rejects(renamed, 'GGUF_SPLIT_INVALID', 'its name does not end in -NNNNN-of-MMMMM.gguf');

    const impostor = splitPartPath(join(dir, 'impostor'), 1, 3);
    await writeGGUF(impostor, { metadata: METADATA, tensors: tensors() });
    await writeSplitGGUF(join(dir, 'impostor-real'), { metadata: METADATA, tensors: tensors() }, 3);
    for (const n of [2, 3]) await copyFile(splitPartPath(join(dir, 'impostor-real'), n, 3), splitPartPath(join(dir, 'impostor'), n, 3));
    await rejects(impostor, 'GGUF_SPLIT_INVALID', 'it has no split.count');
  });

  it('the split keys must be counts', async () => {
    const path = join(dir, 'odd.gguf');
    await writeGGUF(path, {
      metadata: [[SPLIT_COUNT_KEY, { gguf: GGUFValueType.STRING, value: 'three' }]],
      tensors: tensors(),
    });
    await rejects(path, 'GGUF_SPLIT_INVALID', 'split.count is three');
  });
});
