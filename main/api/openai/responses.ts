// POST /v1/responses: OpenAI's Responses dialect of the chat path, stateless. The answer is a
// list of output items (reasoning, message, function_call); streamed, each item is announced,
// filled by deltas and closed, between response.created and response.completed (or
// response.incomplete when max_output_tokens ran out).

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenerationUsage } from '../../engine/index.js';
import type { ChatEvent, ChatService } from '../chat/chat-service.js';
import type { ChatRequest } from '../chat/request.js';
import { asTesseraError } from '../errors.js';
import { NamedEventWriter } from '../streaming/sse.js';
import type { MessageDelta } from './tool-calls/index.js';
import { openAIErrorBody } from './errors.js';
import { parseResponsesBody, type ResponsesBody } from './responses-request.js';

type Done = Extract<ChatEvent, { type: 'done' }>;

export type OutputItem =
  | { type: 'reasoning'; id: string; summary: []; content: { type: 'reasoning_text'; text: string }[] }
  | { type: 'message'; id: string; status: 'in_progress' | 'completed'; role: 'assistant'; content: { type: 'output_text'; text: string; annotations: []; logprobs: [] }[] }
  | { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: 'in_progress' | 'completed' };

type StreamEvent = { type: string } & Record<string, unknown>;

function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export async function handleResponses(
  service: ChatService,
  json: unknown,
  _request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const { request, stream, body } = parseResponsesBody(json);
  const shell = responseShell(request, body);
  const events = service.chat(request, signal);
  // The first event is awaited before anything is written, so request errors are plain HTTP errors.
  const first = await events.next();

  let sequence = 0;
  const sse = stream ? new NamedEventWriter(response) : undefined;
  const emit = (event: StreamEvent): void => sse?.send({ ...event, sequence_number: sequence++ });
  const items = new OutputItems(emit);
  if (sse !== undefined) {
    sse.open();
    emit({ type: 'response.created', response: shell });
    emit({ type: 'response.in_progress', response: shell });
  }
  try {
    let done: Done | undefined;
    const take = (event: ChatEvent): void => {
      if (event.type === 'delta') items.push(event.delta);
      else if (event.type === 'done') done = event;
    };
    if (!first.done) take(first.value);
    for await (const event of events) take(event);
    if (done === undefined) throw new Error('generation ended without a result');
    items.close();
    const final = finalResponse(shell, items.output, done);
    if (sse === undefined) {
      const text = JSON.stringify(final);
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      response.end(text);
      return;
    }
    emit({ type: final.status === 'completed' ? 'response.completed' : 'response.incomplete', response: final });
  } catch (error) {
    if (sse === undefined) throw error;
    // Too late for an HTTP status: the Responses stream reports an `error` event.
    if (!signal.aborted) {
      const { error: failure } = openAIErrorBody(asTesseraError(error));
      emit({ type: 'error', code: failure.code, message: failure.message, param: failure.param });
    }
  }
  sse?.end();
}

/** The response object before any output: what response.created carries. */
function responseShell(request: ChatRequest, body: ResponsesBody): Record<string, unknown> {
  return {
    id: newId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: request.model,
    output: [],
    parallel_tool_calls: request.parallelToolCalls,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: false,
    temperature: request.sampling.temperature,
    text: { format: body.text?.format ?? { type: 'text' } },
    tool_choice: typeof request.toolChoice === 'object' ? { type: 'function', name: request.toolChoice.name } : request.toolChoice,
    tools: request.tools.map((tool) => ({ type: 'function', name: tool.name, description: tool.description ?? null, parameters: tool.parameters, strict: tool.strict })),
    top_p: request.sampling.topP,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: body.metadata ?? {},
  };
}

function finalResponse(shell: Record<string, unknown>, output: readonly OutputItem[], done: Done): Record<string, unknown> {
  const incomplete = done.finishReason === 'length';
  return {
    ...shell,
    status: incomplete ? 'incomplete' : 'completed',
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    output,
    usage: usageOf(done.usage),
  };
}

function usageOf(usage: GenerationUsage): Record<string, unknown> {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/**
 * Builds the output items from the chat path's deltas, one item open at a time, emitting the
 * stream events for each step (a no-op emitter for a non-streamed response). The items it
 * holds at the end are the response's `output`.
 */
export class OutputItems {
  readonly output: OutputItem[] = [];
  private open: OutputItem | undefined;

  constructor(private readonly emit: (event: StreamEvent) => void) {}

  push(delta: MessageDelta): void {
    if (delta.reasoning !== undefined) {
      const item = this.ensure('reasoning');
      const part = item.content[0] as { text: string };
      part.text += delta.reasoning;
      this.emit({ type: 'response.reasoning_text.delta', item_id: item.id, output_index: this.index, content_index: 0, delta: delta.reasoning });
    }
    if (delta.content !== undefined) {
      const item = this.ensure('message');
      const part = item.content[0] as { text: string };
      part.text += delta.content;
      this.emit({ type: 'response.output_text.delta', item_id: item.id, output_index: this.index, content_index: 0, delta: delta.content, logprobs: [] });
    }
    for (const call of delta.toolCalls ?? []) {
      if (call.id !== undefined) {
        this.close();
        this.start({ type: 'function_call', id: newId('fc'), call_id: call.id, name: call.function.name ?? '', arguments: '', status: 'in_progress' });
      }
      const item = this.open;
      if (item?.type !== 'function_call' || call.function.arguments === '') continue;
      item.arguments += call.function.arguments;
      this.emit({ type: 'response.function_call_arguments.delta', item_id: item.id, output_index: this.index, delta: call.function.arguments });
    }
  }

  /** Closes the open item, with its `.done` events. */
  close(): void {
    const item = this.open;
    if (item === undefined) return;
    const at = { item_id: item.id, output_index: this.index };
    switch (item.type) {
      case 'reasoning': {
        const part = item.content[0]!;
        this.emit({ type: 'response.reasoning_text.done', ...at, content_index: 0, text: part.text });
        this.emit({ type: 'response.content_part.done', ...at, content_index: 0, part: { ...part } });
        break;
      }
      case 'message': {
        const part = item.content[0]!;
        item.status = 'completed';
        this.emit({ type: 'response.output_text.done', ...at, content_index: 0, text: part.text, logprobs: [] });
        this.emit({ type: 'response.content_part.done', ...at, content_index: 0, part: { ...part } });
        break;
      }
      case 'function_call':
        item.status = 'completed';
        this.emit({ type: 'response.function_call_arguments.done', ...at, name: item.name, arguments: item.arguments });
        break;
      default: {
        const unknown: never = item;
        throw new Error(`unknown output item ${JSON.stringify(unknown)}`);
      }
    }
    this.emit({ type: 'response.output_item.done', output_index: this.index, item: structuredClone(item) });
    this.open = undefined;
  }

  private get index(): number {
    return this.output.length - 1;
  }

  private ensure<T extends 'reasoning' | 'message'>(type: T): Extract<OutputItem, { type: T }> {
    if (this.open?.type !== type) {
      this.close();
      if (type === 'reasoning') this.start({ type: 'reasoning', id: newId('rs'), summary: [], content: [] });
      else this.start({ type: 'message', id: newId('msg'), status: 'in_progress', role: 'assistant', content: [] });
      const item = this.open!;
      const part = type === 'reasoning' ? { type: 'reasoning_text' as const, text: '' } : { type: 'output_text' as const, text: '', annotations: [] as [], logprobs: [] as [] };
      this.emit({ type: 'response.content_part.added', item_id: item.id, output_index: this.index, content_index: 0, part: { ...part } });
      (item as { content: object[] }).content.push(part);
    }
    return this.open as Extract<OutputItem, { type: T }>;
  }

  private start(item: OutputItem): void {
    this.output.push(item);
    this.open = item;
    this.emit({ type: 'response.output_item.added', output_index: this.index, item: structuredClone(item) });
  }
}
