// The head's pipeline driver against a ring that answers, then stalls while staying connected:
// the step deadline (derived from the measured step time) ends the request within seconds, not
// after the 60 s cap. The ring here is a responder on the driver's own send; the real ring is
// covered by e2e/mesh.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import type { MeshMessage, Plan } from '../../shared/mesh-protocol.js';
import { readGGUFHeader } from '../engine/gguf/reader.js';
import { writeRandomModel } from '../engine/gguf/random-model.js';
import type { ModelInfo } from '../engine/index.js';
import { Tokenizer } from '../engine/tokenizer/tokenizer.js';
import { PipelineEngine, STEP_DEADLINE_MARGIN_MS } from './pipeline-engine.js';

let root: string;
let tokenizer: Tokenizer;
let vocab: number;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'tessera-pipeline-'));
  await writeRandomModel(join(root, 'tiny.gguf'), { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, layers: 2 });
  const header = await readGGUFHeader(join(root, 'tiny.gguf'));
  tokenizer = new Tokenizer(header.metadata);
  vocab = tokenizer.vocabSize;
});
after(() => rm(root, { recursive: true, force: true }));

const plan: Plan = {
  headNodeId: 'head',
  shards: [{ nodeId: 'first', layerStart: 0, layerEnd: 1 }, { nodeId: 'head', layerStart: 1, layerEnd: 2 }],
  predictedTokenSeconds: 0.005,
  predictedComputeSeconds: 0.004,
  predictedHopSeconds: 0.001,
  excludedNodeIds: [],
};

it('a shard that stops answering but stays connected fails the request within seconds', async () => {
  let answered = 0;
  const answerSteps = 20;
  // Logits that never pick an end token: every step asks the ring again.
  const logits = new Float32Array(vocab);
  const driver: PipelineEngine = new PipelineEngine({
    selfId: 'head',
    tokenizer,
    info: { nLayers: 2, layers: [0, 2], contextLength: 4096, vocabSize: vocab, dim: 64, isFirst: true, isLast: true } as unknown as ModelInfo,
    deployment: { planId: 'p', plan },
    redeploy: () => Promise.reject(new Error('not in this test')),
    release: async () => {},
    send: (_nodeId: string, message: MeshMessage) => {
      if (message.type !== 'tensor' || answered >= answerSteps) return; // from here on, the ring is stuck
      answered++;
      logits.fill(0);
      logits[1000 + answered] = 10;
      const { planId, sequenceId, chunk, chunks, step } = message;
      setTimeout(() => driver.deliver({ planId, sequenceId, chunk, chunks, step, logits: logits.slice() }), 2);
    },
  });
  let tokens = 0;
  const started = performance.now();
  let stalledAt = 0;
  await assert.rejects(
    (async () => {
      for await (const event of driver.generate({ tokens: [1, 2, 3], maxTokens: 1000, sampling: { temperature: 0 } })) {
        if (event.type === 'token') tokens++;
        if (tokens === answerSteps) stalledAt = performance.now();
      }
    })(),
    (error) => isTesseraError(error, 'PIPELINE_FAILED') && /stalled/.test(error.message),
  );
  const detectedAfter = performance.now() - stalledAt;
  assert.equal(tokens, answerSteps);
  assert.ok(detectedAfter >= STEP_DEADLINE_MARGIN_MS - 50, `not before the margin (${detectedAfter} ms)`);
  assert.ok(detectedAfter < STEP_DEADLINE_MARGIN_MS + 2_000, `detected ${Math.round(detectedAfter)} ms after the stall`);
  assert.ok(performance.now() - started < 10_000);
  assert.ok(driver.stepDeadlineMs(1, plan) < STEP_DEADLINE_MARGIN_MS + 1_000, 'the deadline follows the measured step time');
});

/** A driver over a ring played by `answer` (called for every tensor the head sends to the first shard). */
function driverWith(answer: (message: Extract<MeshMessage, { type: 'tensor' }>, driver: PipelineEngine) => void, options: { stepTimeoutMs?: number } = {}) {
  const calls = { redeploys: 0 };
  const driver: PipelineEngine = new PipelineEngine({
    selfId: 'head',
    tokenizer,
    info: { nLayers: 2, layers: [0, 2], contextLength: 4096, vocabSize: vocab, dim: 64, isFirst: true, isLast: true } as unknown as ModelInfo,
    deployment: { planId: 'p', plan },
    redeploy: () => {
      calls.redeploys++;
      return Promise.reject(new Error('not in this test'));
    },
    release: async () => {},
    send: (_nodeId: string, message: MeshMessage) => {
      if (message.type === 'tensor') answer(message, driver);
    },
    ...options,
  });
  return { driver, calls };
}

/** Logits whose argmax is `token` (never an end token for these ids). */
function logitsFor(token: number): Float32Array {
  const logits = new Float32Array(vocab);
  logits[token] = 10;
  return logits;
}

it('sends the next token round the ring before handing out the current token', async () => {
  let sent = 0;
  const { driver } = driverWith((message, self) => {
    sent++;
    const { planId, sequenceId, chunk, chunks, step } = message;
    setTimeout(() => self.deliver({ planId, sequenceId, chunk, chunks, step, logits: logitsFor(1000 + sent) }), 1);
  });
  const seenAtEvent: number[] = [];
  const tokens: number[] = [];
  for await (const event of driver.generate({ tokens: [1, 2, 3], maxTokens: 5, sampling: { temperature: 0 } })) {
    if (event.type !== 'token') continue;
    tokens.push(event.token);
    seenAtEvent.push(sent);
  }
  // The prefill, then a step per token but the last (maxTokens ends it without another step).
  assert.deepEqual(tokens, [1001, 1002, 1003, 1004, 1005]);
  assert.deepEqual(seenAtEvent, [2, 3, 4, 5, 5], 'each event but the last finds the following step already sent');
  assert.equal(sent, 5);
});

it('a consumer that stops early gives up the step in flight without breaking the plan', async () => {
  let sent = 0;
  // A slow ring: the step sent before the consumer's break is still out when the next request starts.
  const { driver, calls } = driverWith((message, self) => {
    sent++;
    const { planId, sequenceId, chunk, chunks, step } = message;
    setTimeout(() => self.deliver({ planId, sequenceId, chunk, chunks, step, logits: logitsFor(1000 + (sent % 50)) }), 20);
  }, { stepTimeoutMs: 150 });
  let tokens = 0;
  for await (const event of driver.generate({ tokens: [1, 2, 3], maxTokens: 50, sampling: { temperature: 0 } })) {
    if (event.type === 'token' && ++tokens === 3) break;
  }
  // The next request runs well past the given-up step's deadline (150 ms): that deadline must not fire.
  const started = performance.now();
  let again = 0;
  for await (const event of driver.generate({ tokens: [1, 2, 3], maxTokens: 16, sampling: { temperature: 0 } })) {
    if (event.type === 'token') again++;
  }
  assert.ok(performance.now() - started > 200, 'the second request outlived the first one\'s step deadline');
  assert.equal(again, 16);
  assert.equal(calls.redeploys, 0, 'the plan was not counted as broken');
});
