// llama.cpp (through node-llama-cpp, CPU prebuilt) loads the models Tessera's writer makes and
// evaluates them. Each weight format is compared with a higher-precision model of the same seed:
// if an encoder wrote a block layout llama.cpp decodes differently, its logits would be
// unrelated to the reference's instead of close to them.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp';
import { writeRandomModel, type ModelPreset, type WeightFormat } from './random-model.js';

let dir: string;
let llama: Llama;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-llamacpp-'));
  // build: 'never' uses the prebuilt binaries in @node-llama-cpp/linux-x64 without the
  // package's postinstall step; gpu: false keeps it on the CPU backend.
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
after(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const PROMPT = 'The quick brown fox 🦊 jumps over 12 lazy dogs.';

/** Last-position logits of PROMPT, indexed by token id, and the tokens. */
async function lastLogits(path: string): Promise<{ logits: Float32Array; tokens: Token[] }> {
  const model = await llama.loadModel({ modelPath: path });
  try {
    const context = await model.createContext({ contextSize: 128, threads: 2 });
    try {
      const tokens = model.tokenize(PROMPT);
      const sequence = context.getSequence();
      const input = [...tokens.slice(0, -1), [tokens[tokens.length - 1]!, { generateNext: { logits: true } }] as const];
      const results = await sequence.controlledEvaluate(input as Parameters<typeof sequence.controlledEvaluate>[0]);
      const map = results[tokens.length - 1]?.next.logits;
      assert.ok(map !== undefined, 'llama.cpp returned logits');
      const logits = new Float32Array(map.size);
      for (const [token, value] of map) logits[token] = value;
      return { logits, tokens };
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

function assertSane(logits: Float32Array, what: string): void {
  let min = Infinity;
  let max = -Infinity;
  for (const v of logits) {
    assert.ok(Number.isFinite(v), `${what}: finite logits`);
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(max - min > 1, `${what}: logits spread (${min}..${max})`);
}

/** Cosine with an F32 model's logits that each format must reach. */
const MIN_COSINE: Record<WeightFormat, number> = {
  F32: 1,
  F16: 0.999,
  BF16: 0.995,
  Q8_0: 0.995,
  Q6_K: 0.99,
  Q4_0: 0.9,
  Q4_K_M: 0.9,
};

/**
 * Every format on one architecture (encodings do not depend on it); the other architectures,
 * whose tensor sets differ (rope_freqs, biases, K-quant fallbacks), with Q4_K_M against Q8_0.
 * Each model has the full real vocabulary, so each costs a few seconds: keep this list short.
 */
const CASES: [ModelPreset, WeightFormat, WeightFormat[]][] = [
  ['qwen3-0.6b', 'F32', ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q6_K', 'Q4_K_M']],
  ['llama-3.2-1b', 'Q8_0', ['Q4_K_M']],
  ['qwen2.5-0.5b', 'Q8_0', ['Q4_K_M']],
];

for (const [preset, referenceFormat, formats] of CASES) {
  describe(`llama.cpp runs ${preset}-shaped models written by Tessera`, () => {
    let reference: Float32Array;
    before(async () => {
      const path = join(dir, `${preset}-${referenceFormat}.gguf`);
      await writeRandomModel(path, { preset, format: referenceFormat, tiny: true, seed: 7 });
      reference = (await lastLogits(path)).logits;
    });

    it(`${referenceFormat}: evaluates with finite, spread logits over the whole vocabulary`, () => {
      assert.ok(reference.length > 128_000, `vocabulary of ${reference.length}`);
      assertSane(reference, referenceFormat);
    });

    for (const format of formats) {
      it(`${format}: logits agree with the ${referenceFormat} model`, async () => {
        const path = join(dir, `${preset}-${format}.gguf`);
        await writeRandomModel(path, { preset, format, tiny: true, seed: 7 });
        const { logits } = await lastLogits(path);
        assertSane(logits, format);
        const similarity = cosine(logits, reference);
        const minimum = MIN_COSINE[format] * MIN_COSINE[referenceFormat];
        assert.ok(similarity >= minimum, `${format} vs ${referenceFormat}: cosine ${similarity.toFixed(5)} < ${minimum}`);
        await rm(path);
      });
    }
  });
}

describe('llama.cpp loads a split model written by Tessera', () => {
  it('the 3 parts (opened at the first) give the whole file\'s logits exactly', async () => {
    const options = { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 7 } as const;
    const whole = join(dir, 'split-reference.gguf');
    await writeRandomModel(whole, options);
    const { paths } = await writeRandomModel(join(dir, 'split.gguf'), { ...options, split: 3 });
    const expected = await lastLogits(whole);
    const actual = await lastLogits(paths[0]!);
    assert.deepEqual(actual.tokens, expected.tokens);
    assert.deepEqual(actual.logits, expected.logits);
  });
});
