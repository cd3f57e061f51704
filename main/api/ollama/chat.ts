// POST /api/chat and /api/generate: Ollama's dialect of the chat path. Streams NDJSON by
// default (`stream: false` for one object). Tool calls are sent whole, with arguments as
// objects, as Ollama does; durations are in nanoseconds.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenerationTiming, GenerationUsage } from '../../engine/index.js';
import type { ChatEvent, ChatService, CompletionEvent } from '../chat/chat-service.js';
import { asTesseraError } from '../errors.js';
import { parseOllamaChat, parseOllamaGenerate } from './chat-request.js';
import { ollamaErrorBody } from './errors.js';
import { NdjsonWriter, sendOllamaJson } from './ndjson.js';
import { resolveModelName } from './models.js';

const NANOSECONDS_PER_MILLISECOND = 1e6;

interface Finish {
  readonly finishReason: string;
  readonly usage: GenerationUsage;
  readonly timing: GenerationTiming;
}

export async function handleChat(service: ChatService, json: unknown, _request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const parsed = parseOllamaChat(json);
  const id = resolveModelName(service, parsed.model);
  const head = (): Record<string, unknown> => ({ model: parsed.model, created_at: new Date().toISOString() });
  if (parsed.request === undefined) {
    // No messages: Ollama only loads the model and says so.
    return sendOllamaJson(response, { ...head(), message: { role: 'assistant', content: '' }, done_reason: 'load', done: true });
  }
  const events = service.chat({ ...parsed.request, model: id }, signal);
  await answer(events, parsed.stream, response, signal, chatShapes(parsed.model, started));
}

/** The /api/chat lines: message deltas, whole tool calls (arguments as objects), the final line. */
export function chatShapes(model: string, started: number): Shapes<ChatEvent> {
  const head = (): Record<string, unknown> => ({ model, created_at: new Date().toISOString() });
  return {
    delta: (event) => {
      const { content, reasoning } = event.delta;
      if (content === undefined && reasoning === undefined) return undefined;
      return { ...head(), message: { role: 'assistant', content: content ?? '', ...(reasoning === undefined ? {} : { thinking: reasoning }) }, done: false };
    },
    toolCalls: (done) => (done.toolCalls.length === 0 ? undefined : { ...head(), message: { role: 'assistant', content: '', tool_calls: toolCallsOf(done) }, done: false }),
    final: (done, whole) => ({
      ...head(),
      message: whole
        ? {
            role: 'assistant',
            content: done.content ?? '',
            ...(done.reasoning === '' ? {} : { thinking: done.reasoning }),
            ...(done.toolCalls.length === 0 ? {} : { tool_calls: toolCallsOf(done) }),
          }
        : { role: 'assistant', content: '' },
      ...stats(done, started),
    }),
  };
}

export async function handleGenerate(service: ChatService, json: unknown, _request: IncomingMessage, response: ServerResponse, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  const parsed = parseOllamaGenerate(json);
  const id = resolveModelName(service, parsed.model);
  const head = (): Record<string, unknown> => ({ model: parsed.model, created_at: new Date().toISOString() });
  if (parsed.kind === 'load') return sendOllamaJson(response, { ...head(), response: '', done_reason: 'load', done: true });
  if (parsed.kind === 'raw') {
    const events = service.complete({ ...parsed.request, model: id }, signal);
    return answer(events, parsed.stream, response, signal, {
      delta: (event) => (event.type === 'text' ? { ...head(), response: event.text, done: false } : undefined),
      toolCalls: () => undefined,
      final: (done, whole, text) => ({ ...head(), response: whole ? text : '', ...stats(done, started) }),
    });
  }
  const events = service.chat({ ...parsed.request, model: id }, signal);
  await answer(events, parsed.stream, response, signal, {
    delta: (event) => {
      const { content, reasoning } = event.delta;
      if (content === undefined && reasoning === undefined) return undefined;
      return { ...head(), response: content ?? '', ...(reasoning === undefined ? {} : { thinking: reasoning }), done: false };
    },
    toolCalls: () => undefined,
    final: (done, whole) => ({ ...head(), response: whole ? (done.content ?? '') : '', ...(whole && done.reasoning !== '' ? { thinking: done.reasoning } : {}), ...stats(done, started) }),
  });
}

type DeltaOf<E> = E extends ChatEvent ? Extract<ChatEvent, { type: 'delta' }> : Extract<CompletionEvent, { type: 'text' }>;
type DoneOf<E> = E extends ChatEvent ? Extract<ChatEvent, { type: 'done' }> : Extract<CompletionEvent, { type: 'done' }>;

export interface Shapes<E> {
  /** The stream line for a delta, or undefined for none. */
  delta(event: DeltaOf<E>): unknown;
  /** A line with the whole tool calls, sent before the final line of a stream. */
  toolCalls(done: DoneOf<E>): unknown;
  /** The last line (stream) or the whole answer (`whole`, with all text). */
  final(done: DoneOf<E>, whole: boolean, text: string): unknown;
}

/** Runs the events into NDJSON lines or one object; request errors before the first event are HTTP errors. */
async function answer<E extends ChatEvent | CompletionEvent>(
  events: AsyncGenerator<E>,
  stream: boolean,
  response: ServerResponse,
  signal: AbortSignal,
  shapes: Shapes<E>,
): Promise<void> {
  const first = await events.next();
  let text = '';
  let done: DoneOf<E> | undefined;
  const writer = stream ? new NdjsonWriter(response) : undefined;
  writer?.open();
  const take = (event: E): void => {
    if (event.type === 'done') {
      done = event as DoneOf<E>;
      return;
    }
    if (event.type === 'text') text += event.text;
    if (writer === undefined) return;
    if (event.type === 'delta' || event.type === 'text') {
      const line = shapes.delta(event as DeltaOf<E>);
      if (line !== undefined) writer.send(line);
    }
  };
  try {
    if (!first.done) take(first.value);
    for await (const event of events) take(event);
    if (done === undefined) throw new Error('generation ended without a result');
    if (writer === undefined) return sendOllamaJson(response, shapes.final(done, true, text));
    const calls = shapes.toolCalls(done);
    if (calls !== undefined) writer.send(calls);
    writer.send(shapes.final(done, false, text));
  } catch (error) {
    if (writer === undefined) throw error;
    if (!signal.aborted) writer.send(ollamaErrorBody(asTesseraError(error)));
  }
  writer.end();
}

function toolCallsOf(done: Extract<ChatEvent, { type: 'done' }>): { function: { index: number; name: string; arguments: unknown } }[] {
  return done.toolCalls.map((call, index) => ({ function: { index, name: call.name, arguments: JSON.parse(call.arguments) as unknown } }));
}

function stats(done: Finish, started: number): Record<string, unknown> {
  return {
    done: true,
    // Ollama reports tool calls as a normal stop.
    done_reason: done.finishReason === 'length' ? 'length' : 'stop',
    total_duration: Math.round((performance.now() - started) * NANOSECONDS_PER_MILLISECOND),
    load_duration: 0,
    prompt_eval_count: done.usage.promptTokens,
    prompt_eval_duration: Math.round(done.timing.prefillMs * NANOSECONDS_PER_MILLISECOND),
    eval_count: done.usage.completionTokens,
    eval_duration: Math.round(done.timing.decodeMs * NANOSECONDS_PER_MILLISECOND),
  };
}
