// The generation loop of a whole-model (or last-and-first) engine: prompt in, token events out.
// It runs on the engine thread; the caller passes each event on and checks for abort between tokens.

import { TesseraError } from '../../../shared/errors.js';
import type { ShardRunner } from '../model/shard-runner.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { Sampler } from '../sampling/sampler.js';
import { StopSequenceMatcher } from '../sampling/stop-sequences.js';
import type { GenerateEvent, WorkerGenerateRequest } from './protocol.js';

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
  let position = prompt.length;
  let completionTokens = 0;
  let finishReason: 'stop' | 'length' = 'length';
  let stopSequence: string | undefined;
  const decodeStarted = performance.now();
  while (completionTokens < maxTokens && !aborted()) {
    const token = sampler.sample(logits, history).id;
    history.push(token);
    completionTokens++;
    if (tokenizer.isEndOfGeneration(token)) {
      finishReason = 'stop';
      break;
    }
    const scan = stops.push(decoder.push(token));
    yield { type: 'token', token, text: scan.text };
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
