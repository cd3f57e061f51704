import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTesseraError } from '../../../shared/errors.js';
import { Sampler, argmax, logSumExp } from './sampler.js';
import { topCandidates } from './top-candidates.js';

const logitsOf = (...values: number[]) => Float32Array.from(values);

/** Frequencies of each id over `draws` samples. */
function histogram(sampler: Sampler, logits: Float32Array, draws: number): number[] {
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits).id]!++;
  return counts.map((count) => count / draws);
}

test('temperature 0 is argmax with ties to the lowest id', () => {
  const table: Array<[number[], number]> = [
    [[0, 1, 2], 2],
    [[5, 5, 1], 0],
    [[-3, -1, -1], 1],
    [[-Infinity, -Infinity, 0], 2],
  ];
  for (const [values, expected] of table) {
    assert.equal(new Sampler({ temperature: 0 }).sample(logitsOf(...values)).id, expected, `${values}`);
  }
});

test('sampling follows softmax(logits / temperature)', () => {
  const logits = logitsOf(Math.log(0.5), Math.log(0.3), Math.log(0.2));
  const frequencies = histogram(new Sampler({ seed: 7 }), logits, 20_000);
  for (const [id, p] of [0.5, 0.3, 0.2].entries()) assert.ok(Math.abs(frequencies[id]! - p) < 0.015, `id ${id}: ${frequencies[id]}`);
  // Temperature 0.5 squares the odds: 0.25 : 0.09 : 0.04.
  const sharp = histogram(new Sampler({ seed: 7, temperature: 0.5 }), logits, 20_000);
  const total = 0.25 + 0.09 + 0.04;
  for (const [id, p] of [0.25, 0.09, 0.04].entries()) assert.ok(Math.abs(sharp[id]! - p / total) < 0.015, `id ${id}: ${sharp[id]}`);
});

test('the same seed gives the same tokens; different seeds differ', () => {
  const logits = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 3);
  const run = (seed: number) => {
    const sampler = new Sampler({ seed, temperature: 1.2, topP: 0.95 });
    return Array.from({ length: 50 }, () => sampler.sample(logits).id);
  };
  assert.deepEqual(run(42), run(42));
  assert.notDeepEqual(run(42), run(43));
});

test('top-k, top-p and min-p keep only the expected tokens', () => {
  // Probabilities 0.4, 0.3, 0.2, 0.1.
  const logits = logitsOf(Math.log(0.4), Math.log(0.3), Math.log(0.2), Math.log(0.1));
  const table: Array<[string, ConstructorParameters<typeof Sampler>[0], number[]]> = [
    ['topK 2', { topK: 2 }, [0, 1]],
    ['topK 1', { topK: 1 }, [0]],
    ['topP 0.5', { topP: 0.5 }, [0, 1]],
    ['topP 0.7 (reached exactly)', { topP: 0.7 }, [0, 1]],
    ['topP 0.75', { topP: 0.75 }, [0, 1, 2]],
    ['minP 0.45', { minP: 0.45 }, [0, 1, 2]],
    ['minP 0.6', { minP: 0.6 }, [0, 1]],
    ['topK 3 then topP 0.5 over the renormalised three', { topK: 3, topP: 0.5 }, [0, 1]],
  ];
  for (const [name, params, allowed] of table) {
    const frequencies = histogram(new Sampler({ ...params, seed: 1 }), logits, 4000);
    const seen = frequencies.flatMap((frequency, id) => (frequency > 0 ? [id] : []));
    assert.deepEqual(seen, allowed, name);
  }
  // Within the kept set, the odds stay as before: 0.4 : 0.3 → 4/7 : 3/7.
  const kept = histogram(new Sampler({ topK: 2, seed: 3 }), logits, 20_000);
  assert.ok(Math.abs(kept[0]! - 4 / 7) < 0.015, `${kept[0]}`);
});

test('top-p over a large vocabulary finds a nucleus wider than the first window', () => {
  const logits = new Float32Array(152_000); // uniform: the nucleus at p=0.5 is 76k tokens
  const sampler = new Sampler({ topP: 0.5, seed: 9 });
  // The worst case (a flat distribution) grows the window to the whole vocabulary: keep draws few.
  const ids = Array.from({ length: 10 }, () => sampler.sample(logits).id);
  assert.ok(ids.every((id) => id < 76_001));
  assert.ok(Math.max(...ids) > 20_000, 'draws reach past the first windows');
});

test('penalties: repetition divides positive and multiplies negative logits; presence and frequency subtract', () => {
  const base = logitsOf(2, -2, 1.5, 0);
  const greedy = (params: ConstructorParameters<typeof Sampler>[0], recent: number[]) =>
    new Sampler({ temperature: 0, logprobs: true, topLogprobs: 4, ...params }).sample(base, recent);
  // Token 0 (2.0) seen once with penalty 2 → 1.0, so token 2 (1.5) wins.
  assert.equal(greedy({ repetitionPenalty: 2 }, [0]).id, 2);
  // Presence 0.6 once + frequency 0.5 × 2 occurrences → 2 - 1.6 = 0.4 < 1.5.
  const result = greedy({ presencePenalty: 0.6, frequencyPenalty: 0.5 }, [0, 0]);
  assert.equal(result.id, 2);
  const adjusted = logitsOf(0.4, -2, 1.5, 0);
  const expected = adjusted[0]! - logSumExp(adjusted);
  assert.ok(Math.abs(result.topLogprobs!.find((entry) => entry.id === 0)!.logprob - expected) < 1e-5);
  // Negative logits get more negative: -2 × 2 = -4.
  const negative = greedy({ repetitionPenalty: 2 }, [1]);
  const adjustedNegative = logitsOf(2, -4, 1.5, 0);
  assert.ok(Math.abs(negative.topLogprobs!.at(-1)!.logprob - (adjustedNegative[1]! - logSumExp(adjustedNegative))) < 1e-5);
  // Only the last-n window counts: token 0 is outside a window of 1.
  assert.equal(greedy({ repetitionPenalty: 2, penaltyLastN: 1 }, [0, 3]).id, 0);
  // The caller's logits are never modified.
  assert.deepEqual(Array.from(base), [2, -2, 1.5, 0]);
});

test('logprobs: chosen token and top alternatives from the log-softmax, most likely first', () => {
  const logits = logitsOf(Math.log(0.1), Math.log(0.6), Math.log(0.3));
  const result = new Sampler({ temperature: 0, topLogprobs: 2 }).sample(logits);
  assert.equal(result.id, 1);
  assert.ok(Math.abs(result.logprob! - Math.log(0.6)) < 1e-6);
  assert.deepEqual(result.topLogprobs!.map((entry) => entry.id), [1, 2]);
  assert.ok(Math.abs(result.topLogprobs![1]!.logprob - Math.log(0.3)) < 1e-6);
  assert.equal(new Sampler({ temperature: 0 }).sample(logits).logprob, undefined);
});

test('topCandidates returns the n largest in order, ties to the lower id', () => {
  const logits = logitsOf(1, 5, 3, 5, -1, 3);
  assert.deepEqual(Array.from(topCandidates(logits, 4)), [1, 3, 2, 5]);
  assert.deepEqual(Array.from(topCandidates(logits, 10)), [1, 3, 2, 5, 0, 4]);
  assert.deepEqual(Array.from(topCandidates(logits, 0)), []);
  assert.equal(argmax(logits), 1);
});

test('a 152k vocabulary with top-k, top-p and penalties samples in well under a few ms per token', () => {
  const logits = Float32Array.from({ length: 152_000 }, (_, i) => Math.sin(i * 12.9898) * 8);
  const sampler = new Sampler({ temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05, repetitionPenalty: 1.1, seed: 5, topLogprobs: 5 });
  const recent = Array.from({ length: 64 }, (_, i) => i * 100);
  sampler.sample(logits, recent);
  const started = performance.now();
  for (let i = 0; i < 20; i++) sampler.sample(logits, recent);
  const perToken = (performance.now() - started) / 20;
  // Generous bound: test machines are shared; a quiet one takes about 2 ms.
  assert.ok(perToken < 30, `${perToken.toFixed(2)} ms per token`);
});

test('invalid parameters are refused with REQUEST_INVALID', () => {
  for (const params of [{ temperature: -1 }, { topP: 0 }, { topP: 1.5 }, { topK: 1.5 }, { minP: 2 }, { repetitionPenalty: 0 }]) {
    assert.throws(() => new Sampler(params), (error) => isTesseraError(error, 'REQUEST_INVALID'), JSON.stringify(params));
  }
});
