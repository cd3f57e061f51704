// The generation loop of a whole-model (or last-and-first) engine: prompt in, token events out.
// It runs on the engine thread; the caller passes each event on and checks for abort between tokens.

import { TesseraError } from '../../../shared/errors.js';
import type { ShardRunner } from '../model/shard-runner.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { Sampler } from '../sampling/sampler.js';
import { StopSequenceMatcher } from '../sampling/stop-sequences.js';
import { GrammarConstraint } from '../sampling/grammar/token-constraint.js';
import { grammarVocabulary } from './grammar-vocabulary.js';
import type { GenerateEvent, TokenLogprobs, WorkerGenerateRequest } from './protocol.js';

export const DEFAULT_SEQUENCE = 'default';

export interface GenerationContext {
  readonly runner: ShardRunner;
  readonly tokenizer: Tokenizer;
  /** True once the request was aborted; checked between tokens. */
  readonly aborted: () => boolean;
}

export function promptTokens(tokenizer: Tokenizer, request: WorkerGenerateRequest): Int32Array {
  if (request.tokens !== undefined) return Int32Array.from(request.tokens);
  if (request.prompt !== undefined) {
    return Int32Array.from(tokenizer.encode(request.prompt, { addBos: request.addBos, parseSpecial: true }));
  }
  throw new TesseraError('REQUEST_INVALID', 'a generation needs a prompt or tokens');
}

function tokenLogprobs(
  tokenizer: Tokenizer,
  token: number,
  logprob: number,
  top: readonly { id: number; logprob: number }[],
): TokenLogprobs {
  const describe = (id: number) => {
    const bytes = tokenizer.tokenBytes(id, { special: true });
    return { text: new TextDecoder().decode(bytes), bytes: Array.from(bytes) };
  };
  return { ...describe(token), logprob, top: top.map((entry) => ({ ...describe(entry.id), logprob: entry.logprob })) };
}

export function* generate(context: GenerationContext, request: WorkerGenerateRequest): Generator<GenerateEvent> {
  const { runner, tokenizer, aborted } = context;
  const sampler = new Sampler(request.sampling);
  const sequence = request.sequence ?? DEFAULT_SEQUENCE;
  const prompt = promptTokens(tokenizer, request);
  if (prompt.length === 0) throw new TesseraError('REQUEST_INVALID', 'the prompt is empty');
  const maxTokens = request.maxTokens ?? Infinity;
  if (!(maxTokens >= 0)) throw new TesseraError('REQUEST_INVALID', `maxTokens ${maxTokens} is not a count`);
  // Everything so far, prompt first: the sampler's penalties look at its tail.
  const history = Array.from(prompt);

  const started = performance.now();
  const { output, cachedTokens } = runner.prefill(sequence, prompt);
  let logits = output.data;
  const prefillMs = performance.now() - started;

  const decoder = tokenizer.createDecoder();
  const stops = new StopSequenceMatcher(request.stop ?? []);
  const constraint = request.grammar === undefined ? undefined : new GrammarConstraint(request.grammar, grammarVocabulary(tokenizer));
  const endTokens = [...tokenizer.eosIds];
  const keptControlTokens = new Set(
    (request.keepControlTokens ?? []).map((text) => tokenizer.tokenId(text)).filter((id): id is number => id !== undefined),
  );
  let position = prompt.length;
  let completionTokens = 0;
  let finishReason: 'stop' | 'length' = 'length';
  let stopSequence: string | undefined;
  const decodeStarted = performance.now();
  while (completionTokens < maxTokens && !aborted()) {
    let sampled = sampler.sample(logits, history);
    if (constraint !== undefined) {
      // The grammar decides which tokens may come; the sampler still chooses among them.
      const remainingTokens = Math.min(maxTokens - completionTokens, runner.contextLength - position);
      // The token already drawn is the grammar's first candidate; later draws exclude rejected ones.
      let firstDraw: typeof sampled | undefined = sampled;
      const id = constraint.pick(logits, {
        sample: (values) => {
          const draw = firstDraw ?? sampler.sample(values, history);
          firstDraw = undefined;
          return draw.id;
        },
        endTokens,
        remainingTokens,
      });
      if (id !== sampled.id) sampled = { id };
      if (!tokenizer.isEndOfGeneration(id)) constraint.accept(id);
    }
    const token = sampled.id;
    history.push(token);
    completionTokens++;
    if (tokenizer.isEndOfGeneration(token)) {
      finishReason = 'stop';
      break;
    }
    const piece = keptControlTokens.has(token) ? decoder.flush() + (tokenizer.tokenText(token) ?? '') : decoder.push(token);
    const scan = stops.push(piece);
    const logprobs = sampled.logprob === undefined ? undefined : tokenLogprobs(tokenizer, token, sampled.logprob, sampled.topLogprobs ?? []);
    yield { type: 'token', token, text: scan.text, ...(logprobs === undefined ? {} : { logprobs }) };
    if (scan.stoppedBy !== undefined) {
      finishReason = 'stop';
      stopSequence = scan.stoppedBy;
      break;
    }
    if (completionTokens >= maxTokens || position >= runner.contextLength) break;
    logits = runner.forward(sequence, new Int32Array([token]), position).data;
    position++;
  }
  const decodeMs = performance.now() - decodeStarted;
  const computed = prompt.length - cachedTokens;
  yield {
    type: 'done',
    finishReason,
    stopSequence,
    text: stopSequence === undefined ? stops.push(decoder.flush()).text + stops.flush() : '',
    usage: { promptTokens: prompt.length, cachedPromptTokens: cachedTokens, completionTokens },
    timing: {
      prefillMs,
      decodeMs,
      prefillTokensPerSecond: prefillMs > 0 ? (computed * 1000) / prefillMs : 0,
      // The first token came from the prefill's logits; the rest each took one decode step.
      decodeTokensPerSecond: decodeMs > 0 ? (Math.max(0, completionTokens - 1) * 1000) / decodeMs : 0,
    },
  };
}
