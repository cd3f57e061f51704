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
    return { text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes), bytes: Array.from(bytes) };
  };
  return { ...describe(token), logprob, top: top.map((entry) => ({ ...describe(entry.id), logprob: entry.logprob })) };
}

/** Figures the caller measured around the per-token steps, for the `done` event. */
export interface GenerationFigures {
  readonly cachedTokens: number;
  readonly prefillMs: number;
  readonly decodeMs: number;
}

/** What one step decided: the token event to emit (if any) and the token to run next (if any). */
export interface GenerationStep {
  readonly event?: Extract<GenerateEvent, { type: 'token' }>;
  /** Run this token at this position and pass its logits to the next step; absent when generation ended. */
  readonly feed?: { readonly token: number; readonly position: number };
}

/**
 * The per-token logic of one generation, apart from how logits are computed: sampler, grammar,
 * stop sequences, kept control tokens, logprobs and detokenizing. The engine thread drives it
 * with its own runner; the mesh's pipeline driver drives it with logits from the ring.
 */
export class GenerationSteps {
  readonly prompt: Int32Array;
  readonly sequence: string;
  readonly #tokenizer: Tokenizer;
  readonly #contextLength: number;
  readonly #sampler: Sampler;
  readonly #maxTokens: number;
  /** Everything so far, prompt first: the sampler's penalties look at its tail. */
  readonly #history: number[];
  readonly #decoder: ReturnType<Tokenizer['createDecoder']>;
  readonly #stops: StopSequenceMatcher;
  readonly #constraint: GrammarConstraint | undefined;
  readonly #endTokens: number[];
  readonly #keptControlTokens: Set<number>;
  #position: number;
  #completionTokens = 0;
  #finishReason: 'stop' | 'length' = 'length';
  #stopSequence: string | undefined;
  #ended = false;

  constructor(tokenizer: Tokenizer, request: WorkerGenerateRequest, contextLength: number) {
    this.#tokenizer = tokenizer;
    this.#contextLength = contextLength;
    this.#sampler = new Sampler(request.sampling);
    this.sequence = request.sequence ?? DEFAULT_SEQUENCE;
    this.prompt = promptTokens(tokenizer, request);
    if (this.prompt.length === 0) throw new TesseraError('REQUEST_INVALID', 'the prompt is empty');
    this.#maxTokens = request.maxTokens ?? Infinity;
    if (!(this.#maxTokens >= 0)) throw new TesseraError('REQUEST_INVALID', `maxTokens ${this.#maxTokens} is not a count`);
    this.#history = Array.from(this.prompt);
    this.#decoder = tokenizer.createDecoder();
    this.#stops = new StopSequenceMatcher(request.stop ?? []);
    this.#constraint = request.grammar === undefined ? undefined : new GrammarConstraint(request.grammar, grammarVocabulary(tokenizer));
    this.#endTokens = [...tokenizer.eosIds];
    this.#keptControlTokens = new Set(
      (request.keepControlTokens ?? []).map((text) => tokenizer.tokenId(text)).filter((id): id is number => id !== undefined),
    );
    this.#position = this.prompt.length;
  }

  /** Samples the next token from `logits` (of the last position run). */
  next(logits: Float32Array): GenerationStep {
    if (this.#ended || this.#completionTokens >= this.#maxTokens) {
      this.#ended = true;
      return {};
    }
    const tokenizer = this.#tokenizer;
    let sampled = this.#sampler.sample(logits, this.#history);
    const constraint = this.#constraint;
    if (constraint !== undefined) {
      // The grammar decides which tokens may come; the sampler still chooses among them.
      const remainingTokens = Math.min(this.#maxTokens - this.#completionTokens, this.#contextLength - this.#position);
      // The token already drawn is the grammar's first candidate; later draws exclude rejected ones.
      let firstDraw: typeof sampled | undefined = sampled;
      const id = constraint.pick(logits, {
        sample: (values) => {
          const draw = firstDraw ?? this.#sampler.sample(values, this.#history);
          firstDraw = undefined;
          return draw.id;
        },
        endTokens: this.#endTokens,
        remainingTokens,
      });
      if (id !== sampled.id) sampled = { id };
      if (!tokenizer.isEndOfGeneration(id)) constraint.accept(id);
    }
    const token = sampled.id;
    this.#history.push(token);
    this.#completionTokens++;
    if (tokenizer.isEndOfGeneration(token)) {
      this.#finishReason = 'stop';
      this.#ended = true;
      return {};
    }
    const piece = this.#keptControlTokens.has(token) ? this.#decoder.flush() + (tokenizer.tokenText(token) ?? '') : this.#decoder.push(token);
    const scan = this.#stops.push(piece);
    const logprobs = sampled.logprob === undefined ? undefined : tokenLogprobs(tokenizer, token, sampled.logprob, sampled.topLogprobs ?? []);
    const event = { type: 'token' as const, token, text: scan.text, ...(logprobs === undefined ? {} : { logprobs }) };
    if (scan.stoppedBy !== undefined) {
      this.#finishReason = 'stop';
      this.#stopSequence = scan.stoppedBy;
      this.#ended = true;
      return { event };
    }
    if (this.#completionTokens >= this.#maxTokens || this.#position >= this.#contextLength) {
      this.#ended = true;
      return { event };
    }
    const position = this.#position++;
    return { event, feed: { token, position } };
  }

  /** The closing event, with the text held back and the caller's figures. */
  finish(figures: GenerationFigures): Extract<GenerateEvent, { type: 'done' }> {
    const { cachedTokens, prefillMs, decodeMs } = figures;
    const computed = this.prompt.length - cachedTokens;
    const stopSequence = this.#stopSequence;
    return {
      type: 'done',
      finishReason: this.#finishReason,
      stopSequence,
      text: stopSequence === undefined ? this.#stops.push(this.#decoder.flush()).text + this.#stops.flush() : '',
      usage: { promptTokens: this.prompt.length, cachedPromptTokens: cachedTokens, completionTokens: this.#completionTokens },
      timing: {
        prefillMs,
        decodeMs,
        prefillTokensPerSecond: prefillMs > 0 ? (computed * 1000) / prefillMs : 0,
        // The first token came from the prefill's logits; the rest each took one decode step.
        decodeTokensPerSecond: decodeMs > 0 ? (Math.max(0, this.#completionTokens - 1) * 1000) / decodeMs : 0,
      },
    };
  }
}

export function* generate(context: GenerationContext, request: WorkerGenerateRequest): Generator<GenerateEvent> {
  const { runner, tokenizer, aborted } = context;
  const steps = new GenerationSteps(tokenizer, request, runner.contextLength);
  const started = performance.now();
  const { output, cachedTokens } = runner.prefill(steps.sequence, steps.prompt);
  const logits = output.data;
  const prefillMs = performance.now() - started;

  const decodeStarted = performance.now();
  while (!aborted()) {
    const step = steps.next(logits);
    if (step.event !== undefined) yield step.event;
    if (step.feed === undefined) break;
    // Each step's logits overwrite the last ones (read by now): no new vocabulary-sized array a token.
    runner.forward(steps.sequence, new Int32Array([step.feed.token]), step.feed.position, { output: logits });
  }
  yield steps.finish({ cachedTokens, prefillMs, decodeMs: performance.now() - decodeStarted });
}
