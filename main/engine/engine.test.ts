// The engine end to end: a tiny random qwen3-shaped model with the real Qwen3 tokenizer, loaded
// into its worker thread, generating, reusing prompt prefixes, aborting and closing.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, type GenerateEvent } from './index.js';
import { writeRandomModel } from './gguf/random-model.js';

let dir: string;
let path: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-engine-'));
  path = join(dir, 'qwen3-tiny-q8.gguf');
  await writeRandomModel(path, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: 3 });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GREEDY = { temperature: 0 };
const PROMPT = '<|im_start|>user\nWrite a haiku about the sea.<|im_end|>\n<|im_start|>assistant\n';

async function collect(events: AsyncIterable<GenerateEvent>): Promise<{ tokens: number[]; text: string; done: Extract<GenerateEvent, { type: 'done' }> }> {
  const tokens: number[] = [];
  let text = '';
  for await (const event of events) {
    if (event.type === 'token') {
      tokens.push(event.token);
      text += event.text;
    } else {
      text += event.text;
      return { tokens, text, done: event };
    }
  }
  throw new Error('the stream ended without a done event');
}

describe('Engine', () => {
  let engine: Engine;
  before(async () => {
    engine = await Engine.load({ path, backend: 'reference', contextLength: 256, maxSequences: 2 });
  });
  after(async () => {
    await engine.close();
  });

  it('describes the model it loaded', () => {
    assert.equal(engine.info.architecture, 'qwen3');
    assert.deepEqual(engine.info.layers, [0, 2]);
    assert.equal(engine.info.isFirst && engine.info.isLast, true);
    assert.equal(engine.info.vocabSize, 151936);
    assert.equal(engine.info.contextLength, 256);
    assert.equal(engine.info.backend, 'reference');
    assert.match(engine.info.chatTemplate ?? '', /im_start/);
  });

  it('generates greedily: the same tokens every time, with usage and timing', async () => {
    const first = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 6, sequence: 'a' }));
    assert.equal(first.tokens.length, 6);
    assert.equal(first.done.finishReason, 'length');
    assert.equal(first.done.usage.completionTokens, 6);
    const promptTokens = await engine.tokenize(PROMPT, { parseSpecial: true });
    assert.equal(first.done.usage.promptTokens, promptTokens.length);
    assert.equal(first.text, await engine.detokenize(first.tokens));
    assert.ok(first.done.timing.prefillMs > 0);
    // In another sequence (a cold cache), the same request gives the same tokens.
    const again = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 6, sequence: 'b' }));
    assert.deepEqual(again.tokens, first.tokens);
    assert.equal(again.done.usage.cachedPromptTokens, 0);
  });

  it('a follow-up that repeats the conversation only computes the new tokens', async () => {
    const first = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 4, sequence: 'chat' }));
    const promptTokens = await engine.tokenize(PROMPT, { parseSpecial: true });
    // The next turn: previous prompt + the reply + a new user message, as token ids.
    const followUp = [...promptTokens, ...first.tokens, ...(await engine.tokenize('\nAnd another?', { parseSpecial: true }))];
    const second = await collect(engine.generate({ tokens: followUp, sampling: GREEDY, maxTokens: 3, sequence: 'chat' }));
    // Everything the cache held is reused: the prompt and the generated tokens that were fed back.
    assert.equal(second.done.usage.cachedPromptTokens, promptTokens.length + first.tokens.length - 1);
    const cold = await collect(engine.generate({ tokens: followUp, sampling: GREEDY, maxTokens: 3, sequence: 'other' }));
    assert.deepEqual(second.tokens, cold.tokens);
  });

  it('stops at a stop sequence and never shows it', async () => {
    const free = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 6 }));
    const stop = free.text.slice(2, 5);
    assert.ok(stop.length > 0);
    const stopped = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 6, stop: [stop] }));
    assert.equal(stopped.done.finishReason, 'stop');
    assert.equal(stopped.done.stopSequence, stop);
    assert.equal(stopped.text, free.text.slice(0, free.text.indexOf(stop)));
  });

  it('aborts through an AbortSignal, and breaking out of the loop stops generation', async () => {
    const controller = new AbortController();
    let seen = 0;
    await assert.rejects(
      (async () => {
        for await (const event of engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 200, signal: controller.signal })) {
          if (event.type === 'token' && ++seen === 2) controller.abort();
        }
      })(),
      { code: 'GENERATION_ABORTED' },
    );
    const started = performance.now();
    for await (const event of engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 200 })) {
      if (event.type === 'token') break;
    }
    // The next request is not stuck behind 200 tokens of the one abandoned.
    const next = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 1 }));
    assert.equal(next.tokens.length, 1);
    assert.ok(performance.now() - started < 20_000);
  });

  it('refuses a prompt longer than the context with CONTEXT_OVERFLOW', async () => {
    await assert.rejects(collect(engine.generate({ tokens: new Array(300).fill(100), maxTokens: 1 })), { code: 'CONTEXT_OVERFLOW' });
  });
});

describe('Engine shards', () => {
  it('layers [0,1) then [1,2) give the same logits as the whole model, bit for bit', async () => {
    const whole = await Engine.load({ path, backend: 'reference', contextLength: 64 });
    const head = await Engine.load({ path, backend: 'reference', contextLength: 64, layers: [0, 1] });
    const tail = await Engine.load({ path, backend: 'reference', contextLength: 64, layers: [1, 2] });
    try {
      assert.equal(head.info.isLast, false);
      assert.equal(tail.info.isFirst, false);
      const tokens = Int32Array.from(await whole.tokenize(PROMPT, { parseSpecial: true }));
      const expected = await whole.forwardShard({ sequence: 's', position: 0, input: tokens });
      const hidden = await head.forwardShard({ sequence: 's', position: 0, input: tokens });
      assert.equal(hidden.kind, 'hidden');
      assert.equal(hidden.data.length, tokens.length * head.info.dim);
      const logits = await tail.forwardShard({ sequence: 's', position: 0, input: hidden.data });
      assert.equal(logits.kind, 'logits');
      assert.deepEqual(logits.data, expected.data);
      // A decode step continues from the cached positions.
      const next = Int32Array.of(42);
      const expectedNext = await whole.forwardShard({ sequence: 's', position: tokens.length, input: next });
      const hiddenNext = await head.forwardShard({ sequence: 's', position: tokens.length, input: next });
      assert.deepEqual((await tail.forwardShard({ sequence: 's', position: tokens.length, input: hiddenNext.data })).data, expectedNext.data);
    } finally {
      await Promise.all([whole.close(), head.close(), tail.close()]);
    }
  });
});

describe('Engine errors and shutdown', () => {
  it('a missing file, a bad layer range: typed errors and no thread left behind', async () => {
    await assert.rejects(Engine.load({ path: join(dir, 'nope.gguf'), backend: 'reference' }), { code: 'MODEL_NOT_FOUND' });
    await assert.rejects(Engine.load({ path, backend: 'reference', layers: [1, 5] }), { code: 'LAYER_RANGE_INVALID' });
  });

  it('close() ends the thread; later requests fail with ENGINE_CLOSED', async () => {
    const engine = await Engine.load({ path, backend: 'reference', contextLength: 32 });
    const running = collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 500 }));
    await engine.close();
    await engine.close();
    await running.catch(() => undefined); // it ends one way or the other, never hangs
    await assert.rejects(engine.tokenize('hi'), { code: 'ENGINE_CLOSED' });
  });

  it('runs on the WASM backend by default', async () => {
    const engine = await Engine.load({ path, contextLength: 64, threads: 2 });
    try {
      assert.equal(engine.info.backend, 'wasm-simd');
      const result = await collect(engine.generate({ prompt: PROMPT, sampling: GREEDY, maxTokens: 3 }));
      assert.equal(result.tokens.length, 3);
    } finally {
      await engine.close();
    }
  });
});
