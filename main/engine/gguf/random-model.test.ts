import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTesseraError } from '../../../shared/errors.js';
import { parseMakeModelArgs } from '../../cli/make-model.js';
import { architectureConfig, getString, getStringArray } from './metadata.js';
import { chooseType, modelShape, tensorPlan, writeRandomModel, type ModelPreset } from './random-model.js';
import { readGGUFHeader, readTensorBytes } from './reader.js';
import { GGMLType } from './types.js';

describe('model shapes match the real models', () => {
  // Tensor counts of the real GGUF files (llama.cpp converter output).
  const expected: [ModelPreset, number][] = [
    ['qwen3-0.6b', 310],
    ['llama-3.2-1b', 147],
    ['qwen2.5-0.5b', 290],
  ];
  for (const [preset, count] of expected) {
    it(`${preset}: ${count} tensors`, () => assert.equal(tensorPlan(modelShape({ preset })).length, count));
  }

  it('qwen3-0.6b: q is wider than the hidden state, per-head q/k norms, tied embeddings', () => {
    const plan = new Map(tensorPlan(modelShape({ preset: 'qwen3-0.6b' })).map((t) => [t.name, t.dims]));
    assert.deepEqual(plan.get('token_embd.weight'), [1024, 151936]);
    assert.deepEqual(plan.get('blk.27.attn_q.weight'), [1024, 2048]);
    assert.deepEqual(plan.get('blk.27.attn_k.weight'), [1024, 1024]);
    assert.deepEqual(plan.get('blk.27.attn_output.weight'), [2048, 1024]);
    assert.deepEqual(plan.get('blk.0.attn_q_norm.weight'), [128]);
    assert.deepEqual(plan.get('blk.0.ffn_down.weight'), [3072, 1024]);
    assert.equal(plan.has('output.weight'), false);
  });

  it('llama-3.2-1b has rope_freqs, qwen2.5-0.5b has q/k/v biases', () => {
    const llama = new Map(tensorPlan(modelShape({ preset: 'llama-3.2-1b' })).map((t) => [t.name, t.dims]));
    assert.deepEqual(llama.get('rope_freqs.weight'), [32]);
    assert.deepEqual(llama.get('blk.15.attn_v.weight'), [2048, 512]);
    const qwen2 = new Map(tensorPlan(modelShape({ preset: 'qwen2.5-0.5b' })).map((t) => [t.name, t.dims]));
    assert.deepEqual(qwen2.get('blk.0.attn_k.bias'), [128]);
    assert.deepEqual(qwen2.get('blk.0.attn_q.weight'), [896, 896]);
  });
});

describe('tensor types per format, as llama-quantize picks them', () => {
  const typesOf = (preset: ModelPreset, format: Parameters<typeof chooseType>[2], layers?: number) => {
    const shape = modelShape({ preset, ...(layers === undefined ? {} : { layers }) });
    return new Map(tensorPlan(shape).map((plan) => [plan.name, chooseType(plan, shape, format)]));
  };

  it('Q4_K_M: Q6_K for the (tied) head and use_more_bits layers of attn_v/ffn_down', () => {
    const types = typesOf('qwen3-0.6b', 'Q4_K_M');
    assert.equal(types.get('token_embd.weight'), GGMLType.Q6_K);
    assert.equal(types.get('blk.0.attn_q.weight'), GGMLType.Q4_K);
    const moreBits = [...Array(28).keys()].filter((layer) => types.get(`blk.${layer}.ffn_down.weight`) === GGMLType.Q6_K);
    // 28 layers: first 3, last 4, and every third from layer 5.
    assert.deepEqual(moreBits, [0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27]);
    assert.deepEqual(moreBits, [...Array(28).keys()].filter((l) => types.get(`blk.${l}.attn_v.weight`) === GGMLType.Q6_K));
    assert.equal(types.get('blk.0.attn_norm.weight'), GGMLType.F32);
  });

  it('rows that are not whole 256-blocks fall back (qwen2.5: 896)', () => {
    const types = typesOf('qwen2.5-0.5b', 'Q4_K_M');
    assert.equal(types.get('token_embd.weight'), GGMLType.Q8_0);
    assert.equal(types.get('blk.0.attn_q.weight'), GGMLType.Q4_0);
    assert.equal(types.get('blk.3.ffn_down.weight'), GGMLType.Q4_K, '4864 = 19 x 256');
    assert.equal(types.get('blk.0.ffn_down.weight'), GGMLType.Q6_K);
    assert.equal(types.get('blk.0.attn_q.bias'), GGMLType.F32);
  });

  it('Q4_0 keeps a Q6_K head; plain formats are uniform', () => {
    assert.equal(typesOf('llama-3.2-1b', 'Q4_0').get('token_embd.weight'), GGMLType.Q6_K);
    assert.equal(typesOf('llama-3.2-1b', 'Q4_0').get('blk.3.ffn_up.weight'), GGMLType.Q4_0);
    for (const [format, type] of [['Q8_0', GGMLType.Q8_0], ['F16', GGMLType.F16], ['BF16', GGMLType.BF16]] as const) {
      const types = typesOf('llama-3.2-1b', format);
      assert.equal(types.get('token_embd.weight'), type);
      assert.equal(types.get('blk.0.ffn_down.weight'), type);
      assert.equal(types.get('rope_freqs.weight'), GGMLType.F32);
    }
  });
});

describe('writeRandomModel', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-random-model-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the metadata llama.cpp reads, the real tokenizer, and seeded weights', async () => {
    const one = join(dir, 'one.gguf');
    const two = join(dir, 'two.gguf');
    await writeRandomModel(one, { preset: 'llama-3.2-1b', format: 'Q8_0', tiny: true, layers: 1, seed: 3 });
    await writeRandomModel(two, { preset: 'llama-3.2-1b', format: 'Q8_0', tiny: true, seed: 3 });
    const header = await readGGUFHeader(two);
    const config = architectureConfig(header);
    assert.equal(config.architecture, 'llama');
    assert.equal(config.blockCount, 2);
    assert.equal(config.embeddingLength, 256);
    assert.equal(config.headCount, 8);
    assert.equal(config.headCountKv, 2);
    assert.equal(config.keyLength, 32);
    assert.equal(config.ropeDimensionCount, 32);
    assert.equal(config.ropeFreqBase, 500000);
    assert.equal(config.vocabSize, 128256);
    assert.equal(config.tiedEmbeddings, true);
    assert.equal(getString(header.metadata, 'tokenizer.ggml.model'), 'gpt2');
    assert.equal(getString(header.metadata, 'tokenizer.ggml.pre'), 'llama-bpe');
    assert.equal(getStringArray(header.metadata, 'tokenizer.ggml.tokens').length, 128256);
    assert.equal(header.metadata.get('tokenizer.ggml.bos_token_id'), 128000);
    assert.match(getString(header.metadata, 'tokenizer.chat_template'), /start_header_id/);

    // Same seed: a one-layer cut holds the same first layer; another tensor differs.
    const oneHeader = await readGGUFHeader(one);
    const tensor = (h: typeof header, name: string) => h.tensors.find((t) => t.name === name)!;
    const first = await readTensorBytes(one, tensor(oneHeader, 'blk.0.ffn_up.weight'));
    assert.deepEqual(first, await readTensorBytes(two, tensor(header, 'blk.0.ffn_up.weight')));
    assert.notDeepEqual(first, await readTensorBytes(two, tensor(header, 'blk.1.ffn_up.weight')));
  });
});

describe('make-model arguments', () => {
  it('parses the documented flags', () => {
    assert.deepEqual(parseMakeModelArgs(['--arch', 'qwen3-0.6b', '--type', 'Q4_K_M', '--out', 'm.gguf', '--layers', '4', '--seed', '9']), {
      preset: 'qwen3-0.6b',
      format: 'Q4_K_M',
      out: 'm.gguf',
      tiny: false,
      layers: 4,
      seed: 9,
    });
  });

  it('--split N asks for a model in N parts', () => {
    assert.equal(parseMakeModelArgs(['--arch', 'qwen3-0.6b', '--type', 'Q8_0', '--out', 'm.gguf', '--split', '3']).split, 3);
    assert.throws(
      () => parseMakeModelArgs(['--arch', 'qwen3-0.6b', '--type', 'Q8_0', '--out', 'm.gguf', '--split', '0']),
      (e) => isTesseraError(e, 'CLI_BAD_ARGUMENT'),
    );
  });

  it('rejects unknown presets, formats and flags with CLI_BAD_ARGUMENT', () => {
    for (const args of [
      ['--arch', 'gpt-5', '--type', 'Q8_0', '--out', 'x'],
      ['--arch', 'qwen3-0.6b', '--type', 'Q3_K', '--out', 'x'],
      ['--arch', 'qwen3-0.6b', '--type', 'Q8_0'],
      ['--arch', 'qwen3-0.6b', '--type', 'Q8_0', '--out', 'x', '--layers', 'two'],
      ['--bogus'],
    ]) {
      assert.throws(() => parseMakeModelArgs(args), (e) => isTesseraError(e, 'CLI_BAD_ARGUMENT'), args.join(' '));
    }
  });
});

