// POST /v1/completions: raw-prompt text completion (OpenAI's legacy endpoint), with `suffix`
// as fill-in-the-middle for models that have FIM tokens.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Completion } from 'openai/resources/completions';
import { z } from 'zod';
import { TesseraError } from '../../../shared/errors.js';
import type { ChatService, CompletionEvent } from '../chat/chat-service.js';
import type { ServedModel } from '../chat/served-model.js';
import { samplingBody, samplingOf, stopListOf } from './chat-request.js';
import { newCompletionId } from './chat-completions.js';
import { openAIErrorBody } from './errors.js';
import { SseWriter } from '../streaming/sse.js';
import { asTesseraError } from '../errors.js';
import { sendJson } from '../respond.js';
import { validBody } from '../request-validation.js';

/** OpenAI's default for this endpoint. */
const DEFAULT_COMPLETION_MAX_TOKENS = 16;

const body = samplingBody.extend({
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  suffix: z.string().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  n: z.literal(1).nullish(),
  best_of: z.literal(1).nullish(),
  echo: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
});

/** FIM markers by family: Qwen2.5-Coder style first, then CodeLlama / StarCoder style. */
const FIM_MARKERS = [
  { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' },
  { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>' },
] as const;

export async function handleCompletions(
  service: ChatService,
  json: unknown,
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  void request;
  const b = validBody(body.safeParse(json), 'Invalid request: ');
  const model = service.model(b.model);
  const promptText = typeof b.prompt === 'string' ? b.prompt : b.prompt[0]!;
  const prompt = b.suffix ? await fillInTheMiddlePrompt(model, promptText, b.suffix) : promptText;

  const events = service.complete(
    {
      model: b.model,
      prompt,
      sampling: samplingOf(b),
      maxTokens: b.max_tokens ?? DEFAULT_COMPLETION_MAX_TOKENS,
      stop: stopListOf(b),
    },
    signal,
  );
  const id = newCompletionId('cmpl');
  const created = Math.floor(Date.now() / 1000);
  const first = await events.next();
  const echo = b.echo === true ? promptText : '';

  if (b.stream !== true) {
    let text = echo;
    let done: Extract<CompletionEvent, { type: 'done' }> | undefined;
    const take = (event: CompletionEvent): void => {
      if (event.type === 'text') text += event.text;
      else done = event;
    };
    if (!first.done) take(first.value);
    for await (const event of events) take(event);
    if (done === undefined) throw new Error('generation ended without a result');
    const result: Completion = {
      id,
      object: 'text_completion',
      created,
      model: b.model,
      choices: [{ index: 0, text, finish_reason: done.finishReason, logprobs: null }],
      usage: { prompt_tokens: done.usage.promptTokens, completion_tokens: done.usage.completionTokens, total_tokens: done.usage.promptTokens + done.usage.completionTokens },
    };
    sendJson(response, 200, result);
    return;
  }

  const sse = new SseWriter(response);
  sse.open();
  const includeUsage = b.stream_options?.include_usage === true;
  const chunk = (text: string, finishReason: 'stop' | 'length' | null): Completion => ({
    id,
    object: 'text_completion',
    created,
    model: b.model,
    choices: [{ index: 0, text, finish_reason: finishReason as 'stop', logprobs: null }],
  });
  try {
    if (echo) sse.send(chunk(echo, null));
    const send = (event: CompletionEvent): void => {
      if (event.type === 'text') return sse.send(chunk(event.text, null));
      sse.send(chunk('', event.finishReason));
      if (includeUsage) {
        const usage = { prompt_tokens: event.usage.promptTokens, completion_tokens: event.usage.completionTokens, total_tokens: event.usage.promptTokens + event.usage.completionTokens };
        sse.send({ id, object: 'text_completion', created, model: b.model, choices: [], usage });
      }
    };
    if (!first.done) send(first.value);
    for await (const event of events) send(event);
    sse.done();
  } catch (error) {
    if (!signal.aborted) sse.send(openAIErrorBody(asTesseraError(error)));
    response.end();
  }
}

const fimSupport = new WeakMap<ServedModel, (typeof FIM_MARKERS)[number] | null>();

async function fillInTheMiddlePrompt(model: ServedModel, prefix: string, suffix: string): Promise<string> {
  let markers = fimSupport.get(model);
  if (markers === undefined) {
    markers = null;
    for (const candidate of FIM_MARKERS) {
      const tokens = await model.engine.tokenize(candidate.prefix + candidate.suffix + candidate.middle, { parseSpecial: true });
      if (tokens.length === 3) {
        markers = candidate;
        break;
      }
    }
    fimSupport.set(model, markers);
  }
  if (markers === null) {
    throw new TesseraError('REQUEST_INVALID', `The model "${model.id}" has no fill-in-the-middle tokens, so "suffix" cannot be used.`, { param: 'suffix' });
  }
  return `${markers.prefix}${prefix}${markers.suffix}${suffix}${markers.middle}`;
}
