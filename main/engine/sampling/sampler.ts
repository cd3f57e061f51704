// Chooses the next token from the model's logits. Steps run in llama.cpp's default order:
// penalties → top-k → top-p → min-p → temperature → draw. Temperature 0 is greedy decoding.

import { TesseraError } from '../../../shared/errors.js';
import { createRandom, type RandomSource } from './random.js';
import { topCandidates } from './top-candidates.js';

export interface SamplingParams {
  /** 0 = greedy (argmax, ties to the lowest id). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens; 0 = off. Default 0. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 = off. Default 1. */
  topP?: number;
  /** Drop tokens less likely than minP × the most likely one; 0 = off. Default 0. */
  minP?: number;
  /** llama.cpp's repeat penalty: divides positive logits (multiplies negative ones) of recent tokens; 1 = off. */
  repetitionPenalty?: number;
  /** How many of the most recent tokens the penalties look at; -1 = all given. Default 64. */
  penaltyLastN?: number;
  /** OpenAI presence penalty: subtracted once from the logit of every recent token. Default 0. */
  presencePenalty?: number;
  /** OpenAI frequency penalty: subtracted per occurrence of a recent token. Default 0. */
  frequencyPenalty?: number;
  /** Same seed, same logits → same tokens. Unseeded samplers seed from crypto. */
  seed?: number;
  /** How many top alternatives to report with each token (OpenAI `top_logprobs`); 0 = no logprobs. */
  topLogprobs?: number;
  /** Report the chosen token's logprob even with no alternatives (OpenAI `logprobs: true`). */
  logprobs?: boolean;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

export interface SampleResult {
  id: number;
  /**
   * Log-probability of the chosen token under the log-softmax of the logits after penalties,
   * before temperature and truncation (what the model "thinks", independent of sampling knobs).
   */
  logprob?: number;
  /** The `topLogprobs` most likely tokens under the same distribution, most likely first. */
  topLogprobs?: TokenLogprob[];
}

export const DEFAULT_PENALTY_LAST_N = 64;
/** Candidate count tried first for top-p without top-k; grown ×4 until the nucleus fits. */
const TOP_P_FIRST_WINDOW = 64;

export class Sampler {
  private readonly random: RandomSource;
  private scratch = new Float32Array(0);

  constructor(readonly params: SamplingParams = {}) {
    validate(params);
    this.random = createRandom(params.seed);
  }

  /** `recentTokens`: the sequence so far (prompt and generated), oldest first; penalties use its tail. */
  sample(logits: Float32Array, recentTokens: ArrayLike<number> = []): SampleResult {
    const adjusted = this.applyPenalties(logits, recentTokens);
    const id = this.choose(adjusted);
    const result: SampleResult = { id };
    const alternatives = this.params.topLogprobs ?? 0;
    if (this.params.logprobs || alternatives > 0) {
      const normalizer = logSumExp(adjusted);
      result.logprob = adjusted[id]! - normalizer;
      if (alternatives > 0) {
        result.topLogprobs = Array.from(topCandidates(adjusted, alternatives), (candidate) => ({
          id: candidate,
          logprob: adjusted[candidate]! - normalizer,
        }));
      }
    }
    return result;
  }

  private applyPenalties(logits: Float32Array, recentTokens: ArrayLike<number>): Float32Array {
    const { repetitionPenalty = 1, presencePenalty = 0, frequencyPenalty = 0 } = this.params;
    if (repetitionPenalty === 1 && presencePenalty === 0 && frequencyPenalty === 0) return logits;
    if (this.scratch.length !== logits.length) this.scratch = new Float32Array(logits.length);
    const adjusted = this.scratch;
    adjusted.set(logits);
    const lastN = this.params.penaltyLastN ?? DEFAULT_PENALTY_LAST_N;
    const start = lastN < 0 ? 0 : Math.max(0, recentTokens.length - lastN);
    const counts = new Map<number, number>();
    for (let i = start; i < recentTokens.length; i++) {
      const id = recentTokens[i]!;
      if (id >= 0 && id < logits.length) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const [id, count] of counts) {
      let logit = adjusted[id]!;
      logit = logit <= 0 ? logit * repetitionPenalty : logit / repetitionPenalty;
      adjusted[id] = logit - count * frequencyPenalty - presencePenalty;
    }
    return adjusted;
  }

  private choose(logits: Float32Array): number {
    const { temperature = 1, topK = 0, topP = 1, minP = 0 } = this.params;
    if (temperature <= 0) return argmax(logits);

    let candidates: Int32Array | undefined;
    if (topK > 0 && topK < logits.length) candidates = topCandidates(logits, topK);
    if (topP < 1) candidates = nucleus(logits, candidates, topP);
    if (minP > 0) candidates = aboveMinP(logits, candidates, minP);

    // Draw from softmax(logit / temperature) over the candidates (all tokens when none were cut).
    const count = candidates?.length ?? logits.length;
    const idAt = candidates === undefined ? (index: number) => index : (index: number) => candidates[index]!;
    let max = -Infinity;
    for (let i = 0; i < count; i++) max = Math.max(max, logits[idAt(i)]!);
    if (max === -Infinity) return argmax(logits);
    let total = 0;
    for (let i = 0; i < count; i++) total += Math.exp((logits[idAt(i)]! - max) / temperature);
    let remaining = this.random.next() * total;
    for (let i = 0; i < count; i++) {
      remaining -= Math.exp((logits[idAt(i)]! - max) / temperature);
      if (remaining < 0) return idAt(i);
    }
    // Rounding left a sliver: the last candidate with any weight takes it.
    for (let i = count - 1; i >= 0; i--) if (logits[idAt(i)]! > -Infinity) return idAt(i);
    return idAt(0);
  }
}

function validate(params: SamplingParams): void {
  const problems: string[] = [];
  const check = (name: keyof SamplingParams, ok: (value: number) => boolean, rule: string) => {
    const value = params[name];
    if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value) || !ok(value))) problems.push(`${name} ${rule}`);
  };
  check('temperature', (v) => v >= 0, 'must be ≥ 0');
  check('topK', (v) => Number.isInteger(v) && v >= 0, 'must be an integer ≥ 0');
  check('topP', (v) => v > 0 && v <= 1, 'must be in (0, 1]');
  check('minP', (v) => v >= 0 && v <= 1, 'must be in [0, 1]');
  check('repetitionPenalty', (v) => v > 0, 'must be > 0');
  check('penaltyLastN', (v) => Number.isInteger(v) && v >= -1, 'must be an integer ≥ -1');
  check('topLogprobs', (v) => Number.isInteger(v) && v >= 0, 'must be an integer ≥ 0');
  if (problems.length > 0) throw new TesseraError('REQUEST_INVALID', `invalid sampling parameters: ${problems.join('; ')}`);
}

/** Highest logit; ties go to the lowest id. */
export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let id = 1; id < logits.length; id++) if (logits[id]! > logits[best]!) best = id;
  return best;
}

export function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  return max + Math.log(sum);
}

/** The most likely candidates whose probabilities (softmax over the current candidates) first reach `topP`. */
function nucleus(logits: Float32Array, candidates: Int32Array | undefined, topP: number): Int32Array {
  let normalizer: number;
  if (candidates === undefined) {
    normalizer = logSumExp(logits);
  } else {
    let max = -Infinity;
    for (const id of candidates) max = Math.max(max, logits[id]!);
    let sum = 0;
    for (const id of candidates) sum += Math.exp(logits[id]! - max);
    normalizer = max + Math.log(sum);
  }
  for (let window = TOP_P_FIRST_WINDOW; ; window *= 4) {
    // Past an eighth of the vocabulary, one full pass is cheaper than more growing ones.
    const size = window * 8 > logits.length ? logits.length : window;
    const sorted = candidates ?? topCandidates(logits, size);
    let cumulative = 0;
    for (let i = 0; i < sorted.length; i++) {
      cumulative += Math.exp(logits[sorted[i]!]! - normalizer);
      if (cumulative >= topP) return sorted.subarray(0, i + 1);
    }
    if (candidates !== undefined || sorted.length === logits.length) return sorted;
  }
}

/** Candidates at least `minP` times as likely as the most likely one (always keeps that one). */
function aboveMinP(logits: Float32Array, candidates: Int32Array | undefined, minP: number): Int32Array {
  if (candidates !== undefined) {
    let max = -Infinity;
    for (const id of candidates) max = Math.max(max, logits[id]!);
    const threshold = max + Math.log(minP);
    return candidates.filter((id) => logits[id]! >= threshold);
  }
  const threshold = logits[argmax(logits)]! + Math.log(minP);
  const kept: number[] = [];
  for (let id = 0; id < logits.length; id++) if (logits[id]! >= threshold) kept.push(id);
  return Int32Array.from(kept);
}
