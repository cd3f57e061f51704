// Loading through the engine thread: a split GGUF runs exactly as the whole file does, and a
// load reports progress over the weight bytes of the layers it holds.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTesseraError } from '../../shared/errors.js';
import { Engine } from './index.js';
import { readGGUFHeader } from './gguf/reader.js';
import { writeRandomModel } from './gguf/random-model.js';
import { splitPartPath } from './gguf/split-model.js';

let dir: string;
let whole: string;
let parts: readonly string[];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-engine-load-'));
  whole = join(dir, 'tiny.gguf');
  const options = { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 3, seed: 7 } as const;
  await writeRandomModel(whole, options);
  parts = (await writeRandomModel(join(dir, 'tiny-split.gguf'), { ...options, split: 3 })).paths;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const PROMPT = '<|im_start|>user\nName three rivers.<|im_end|>\n<|im_start|>assistant\n';

async function greedyTokens(engine: Engine): Promise<number[]> {
  const tokens: number[] = [];
  for await (const event of engine.generate({ prompt: PROMPT, maxTokens: 8, sampling: { temperature: 0 } })) {
    if (event.type === 'token') tokens.push(event.token);
  }
  return tokens;
}

async function promptLogits(engine: Engine): Promise<Float32Array> {
  const input = Int32Array.from(await engine.tokenize(PROMPT));
  return (await engine.forwardShard({ sequence: 'logits', position: 0, input, allLogits: true })).data;
}

describe('split models in the engine', () => {
  it('the 3 parts give the whole file\'s logits and greedy tokens, loaded from the first part or any other', async () => {
    const reference = await Engine.load({ path: whole });
    let expectedLogits: Float32Array;
    let expectedTokens: number[];
    try {
      expectedLogits = await promptLogits(reference);
      expectedTokens = await greedyTokens(reference);
    } finally {
      await reference.close();
    }
    assert.equal(parts.length, 3);
    for (const path of [parts[0]!, parts[2]!]) {
      const engine = await Engine.load({ path });
      try {
        assert.equal(engine.info.nLayers, 3);
        assert.equal(engine.info.path, path);
        assert.deepEqual(await promptLogits(engine), expectedLogits);
        assert.deepEqual(await greedyTokens(engine), expectedTokens);
      } finally {
        await engine.close();
      }
    }
  });

  it('a layer range of a split model reads only the parts it needs and matches the whole file\'s shard', async () => {
    const input = new Float32Array(256 * 2).map((_, i) => Math.sin(i) * 0.5);
    const outputs: Float32Array[] = [];
    for (const path of [whole, parts[1]!]) {
      const engine = await Engine.load({ path, layers: [1, 2] });
      try {
        outputs.push((await engine.forwardShard({ sequence: 's', position: 0, input })).data);
      } finally {
        await engine.close();
      }
    }
    assert.deepEqual(outputs[0], outputs[1]);
  });

  it('a missing part fails the load with GGUF_SPLIT_PART_MISSING', async () => {
    const prefix = join(dir, 'broken');
    const written = await writeRandomModel(`${prefix}.gguf`, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 1, split: 2 });
    await rm(written.paths[1]!);
    await assert.rejects(Engine.load({ path: splitPartPath(prefix, 1, 2) }), (error) => {
      assert.ok(isTesseraError(error, 'GGUF_SPLIT_PART_MISSING'), String(error));
      assert.match(error.message, /broken-00002-of-00002\.gguf/);
      return true;
    });
  });
});

describe('load progress', () => {
  /** Weight bytes of the tensors a shard over [start, end) of the 3-layer model holds. */
  const shardBytes = async (start: number, end: number): Promise<number> => {
    const header = await readGGUFHeader(whole);
    const held = (name: string): boolean => {
      const layer = /^blk\.(\d+)\./.exec(name);
      if (layer !== null) return Number(layer[1]) >= start && Number(layer[1]) < end;
      // Tied embeddings: the first shard embeds, the last uses the same table as its head.
      if (name === 'token_embd.weight') return start === 0 || end === 3;
      return name === 'output_norm.weight' && end === 3;
    };
    return header.tensors.filter((tensor) => held(tensor.name)).reduce((sum, tensor) => sum + tensor.byteLength, 0);
  };

  const loadWithProgress = async (path: string, layers?: [number, number]): Promise<[number, number][]> => {
    const reports: [number, number][] = [];
    const engine = await Engine.load(layers === undefined ? { path } : { path, layers }, {
      onProgress: (loaded, total) => reports.push([loaded, total]),
    });
    await engine.close();
    return reports;
  };

  const assertWellFormed = (reports: readonly [number, number][], total: number): void => {
    assert.ok(reports.length >= 3, `expected several reports, got ${JSON.stringify(reports)}`);
    assert.deepEqual(reports[0], [0, total]);
    assert.deepEqual(reports[reports.length - 1], [total, total]);
    // Reports in between count real reads (the last one is the load's end): the bytes read come
    // close to the total, so the total is not inflated. 8 MiB pieces and 5% steps leave a gap.
    assert.ok(reports[reports.length - 2]![0] >= total / 2, `reads fell short of ${total}: ${JSON.stringify(reports)}`);
    for (let i = 1; i < reports.length; i++) {
      assert.equal(reports[i]![1], total);
      assert.ok(reports[i]![0] > reports[i - 1]![0], `progress must grow: ${JSON.stringify(reports)}`);
    }
  };

  it('whole model: from 0 to the bytes of every tensor, growing', async () => {
    const total = await shardBytes(0, 3);
    assertWellFormed(await loadWithProgress(whole), total);
  });

  it('a middle layer range reports (and reads) only its own layers\' bytes', async () => {
    const total = await shardBytes(1, 2);
    assert.ok(total < (await shardBytes(0, 3)) / 3);
    assertWellFormed(await loadWithProgress(whole, [1, 2]), total);
  });

  it('a split model reports the same bytes as the whole file', async () => {
    assertWellFormed(await loadWithProgress(parts[0]!, [0, 2]), await shardBytes(0, 2));
  });

  it('a caller without onProgress loads as before; a failing callback does not fail the load', async () => {
    const engine = await Engine.load({ path: whole, layers: [2, 3] }, {
      onProgress: () => {
        throw new Error('display broke');
      },
    });
    assert.deepEqual(engine.info.layers, [2, 3]);
    await engine.close();
  });
});
