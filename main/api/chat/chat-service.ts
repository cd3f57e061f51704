// The one chat path every API dialect runs: render the prompt, generate under the answer's
// grammar (if any), parse tool calls incrementally, and report deltas and the final message as
// internal events that each dialect formats its own way.

import { TesseraError } from '../../../shared/errors.js';
import type { GenerationUsage, GenerationTiming, TokenLogprobs } from '../../engine/index.js';
import { MessageStream, plainFormat, type IdentifiedToolCall, type MessageDelta } from '../openai/tool-calls/index.js';
import { outputGrammarFor } from './output-grammar.js';
import { renderPrompt } from './prompt.js';
import { RequestQueue } from './request-queue.js';
import type { ChatRequest } from './request.js';
import type { ServedModel } from './served-model.js';

export type ChatFinishReason = 'stop' | 'length' | 'tool_calls';

/** Control tokens some families write their tool calls with; parsers need their text. */
const TOOL_CALL_CONTROL_TOKENS = ['[TOOL_CALLS]', '[ARGS]', '<|python_tag|>'];

export type ChatEvent =
  | { readonly type: 'delta'; readonly delta: MessageDelta }
  /** Log-probabilities of one generated token, when the request asked for them. */
  | { readonly type: 'logprobs'; readonly token: TokenLogprobs }
  | {
      readonly type: 'done';
      readonly finishReason: ChatFinishReason;
      /** The stop sequence that ended generation, if one did (Anthropic's `stop_sequence`). */
      readonly stopSequence?: string;
      /** null when the answer is only tool calls. */
      readonly content: string | null;
      readonly reasoning: string;
      readonly toolCalls: readonly IdentifiedToolCall[];
      readonly usage: GenerationUsage;
      readonly timing: GenerationTiming;
    };

export interface TextCompletionRequest {
  readonly model: string;
  /** Used as it is; control-token text such as <|fim_prefix|> becomes its token. */
  readonly prompt: string;
  readonly sampling: ChatRequest['sampling'];
  readonly maxTokens?: number;
  readonly stop: readonly string[];
}

export type CompletionEvent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'done'; readonly finishReason: 'stop' | 'length'; readonly usage: GenerationUsage; readonly timing: GenerationTiming };

/** Where the API finds the models it serves. */
export interface ModelCatalog {
  get(id: string): ServedModel | undefined;
  list(): readonly ServedModel[];
}

/** Requests that may wait for a model while it is busy; past this a client gets 429. */
export const MAX_QUEUED_REQUESTS_PER_MODEL = 32;

export class ChatService {
  private readonly queues = new WeakMap<ServedModel, RequestQueue>();

  constructor(
    readonly models: ModelCatalog,
    private readonly newCallId: () => string,
    private readonly maxQueuedRequests = MAX_QUEUED_REQUESTS_PER_MODEL,
  ) {}

  model(id: string): ServedModel {
    const model = this.models.get(id);
    if (model === undefined) {
      const known = this.models.list().map((served) => served.id);
      const hint = known.length === 0 ? 'No model is loaded.' : `Loaded: ${known.join(', ')}.`;
      throw new TesseraError('MODEL_NOT_FOUND', `The model "${id}" does not exist. ${hint}`, { param: 'model' });
    }
    return model;
  }

  /**
   * Runs one chat request. Errors before the first event (unknown model, a template or schema
   * problem, a full queue, a prompt longer than the context) are thrown from the first `next()`.
   */
  async *chat(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const model = this.model(request.model);
    const prompt = renderPrompt(model, request);
    const grammar = outputGrammarFor(request, model.toolFormat.name);
    const usesTools = request.tools.length > 0 && request.toolChoice !== 'none';
    const parser = new MessageStream({ format: usesTools ? model.toolFormat : plainFormat, reasoning: model.thinks }, this.newCallId);

    const release = await this.queueFor(model).enter(signal);
    try {
      const events = model.engine.generate({
        prompt,
        sampling: {
          temperature: request.sampling.temperature,
          topP: request.sampling.topP,
          topK: request.sampling.topK,
          minP: request.sampling.minP,
          presencePenalty: request.sampling.presencePenalty,
          frequencyPenalty: request.sampling.frequencyPenalty,
          repetitionPenalty: request.sampling.repetitionPenalty,
          ...(request.sampling.seed === undefined ? {} : { seed: request.sampling.seed }),
          ...(request.logprobs === undefined ? {} : { logprobs: true, topLogprobs: request.logprobs.top }),
        },
        ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
        stop: request.stop,
        ...(grammar === undefined ? {} : { grammar }),
        ...(usesTools ? { keepControlTokens: TOOL_CALL_CONTROL_TOKENS } : {}),
        signal,
      });
      for await (const event of events) {
        if (event.type === 'token') {
          if (event.logprobs !== undefined) yield { type: 'logprobs', token: event.logprobs };
          if (event.text === '') continue;
          for (const delta of parser.push(event.text)) yield { type: 'delta', delta };
          continue;
        }
        const final = parser.finish(event.text);
        for (const delta of final.deltas) yield { type: 'delta', delta };
        yield {
          type: 'done',
          finishReason: final.toolCalls.length > 0 ? 'tool_calls' : event.finishReason,
          ...(event.stopSequence === undefined ? {} : { stopSequence: event.stopSequence }),
          content: final.content === '' && final.toolCalls.length > 0 ? null : final.content,
          reasoning: final.reasoning,
          toolCalls: final.toolCalls,
          usage: event.usage,
          timing: event.timing,
        };
      }
    } finally {
      release();
    }
  }

  /**
   * Plain text completion of a raw prompt (no chat template, no tool parsing): the legacy
   * completions endpoint and fill-in-the-middle.
   */
  async *complete(request: TextCompletionRequest, signal: AbortSignal): AsyncGenerator<CompletionEvent> {
    const model = this.model(request.model);
    const release = await this.queueFor(model).enter(signal);
    try {
      const events = model.engine.generate({
        prompt: request.prompt,
        sampling: { ...request.sampling },
        ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
        stop: request.stop,
        signal,
      });
      for await (const event of events) {
        if (event.type === 'token') {
          if (event.text !== '') yield { type: 'text', text: event.text };
          continue;
        }
        if (event.text !== '') yield { type: 'text', text: event.text };
        yield { type: 'done', finishReason: event.finishReason, usage: event.usage, timing: event.timing };
      }
    } finally {
      release();
    }
  }

  private queueFor(model: ServedModel): RequestQueue {
    let queue = this.queues.get(model);
    if (queue === undefined) this.queues.set(model, (queue = new RequestQueue(this.maxQueuedRequests)));
    return queue;
  }
}
