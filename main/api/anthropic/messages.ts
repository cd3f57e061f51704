// POST /v1/messages and /v1/messages/count_tokens: the Anthropic dialect of the chat path.
// Streaming follows Anthropic's event grammar: message_start, then per content block
// content_block_start / content_block_delta* / content_block_stop (text_delta, thinking_delta,
// input_json_delta for tool input), then message_delta (stop_reason, usage) and message_stop.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GenerationUsage } from '../../engine/index.js';
import type { ChatEvent, ChatService } from '../chat/chat-service.js';
import { renderPrompt } from '../chat/prompt.js';
import { asTesseraError } from '../errors.js';
import type { MessageDelta } from '../openai/tool-calls/index.js';
import { anthropicErrorBody } from './errors.js';
import { parseCountTokensBody, parseMessagesBody } from './messages-request.js';
import { NamedEventWriter } from '../streaming/sse.js';

type Done = Extract<ChatEvent, { type: 'done' }>;
export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use';

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

export async function handleMessages(
  service: ChatService,
  json: unknown,
  _request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const { request, stream } = parseMessagesBody(json);
  const id = `msg_${randomBytes(12).toString('base64url')}`;
  const events = service.chat(request, signal);
  // The first event is awaited before anything is written, so request errors are plain HTTP errors.
  const first = await events.next();

  if (!stream) {
    let done: Done | undefined;
    if (!first.done && first.value.type === 'done') done = first.value;
    for await (const event of events) if (event.type === 'done') done = event;
    if (done === undefined) throw new Error('generation ended without a result');
    sendJson(response, {
      id,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: contentOf(done),
      stop_reason: stopReasonOf(done),
      stop_sequence: done.stopSequence ?? null,
      usage: usageOf(done.usage),
    });
    return;
  }

  const sse = new NamedEventWriter(response);
  sse.open();
  sse.send({
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // Prompt tokens are known only once generation ends; message_delta carries the totals.
      usage: { input_tokens: 0, output_tokens: 0 },
    },
  });
  sse.send({ type: 'ping' });
  const blocks = new BlockStream((event) => sse.send(event));
  try {
    const send = (event: ChatEvent): void => {
      if (event.type === 'delta') return blocks.push(event.delta);
      if (event.type !== 'done') return;
      blocks.close();
      sse.send({
        type: 'message_delta',
        delta: { stop_reason: stopReasonOf(event), stop_sequence: event.stopSequence ?? null },
        usage: usageOf(event.usage),
      });
      sse.send({ type: 'message_stop' });
    };
    if (!first.done) send(first.value);
    for await (const event of events) send(event);
  } catch (error) {
    // Too late for an HTTP status: Anthropic reports it as an `error` event.
    if (!signal.aborted) sse.send(anthropicErrorBody(asTesseraError(error)));
  }
  sse.end();
}

export async function handleCountTokens(
  service: ChatService,
  json: unknown,
  _request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const request = parseCountTokensBody(json);
  const model = service.model(request.model);
  const tokens = await model.engine.tokenize(renderPrompt(model, request), { parseSpecial: true });
  sendJson(response, { input_tokens: tokens.length });
}

/**
 * Turns the chat path's deltas into Anthropic content blocks: one block open at a time, a new
 * one whenever the kind of delta changes or a new tool call starts.
 */
export class BlockStream {
  private index = -1;
  private open: 'text' | 'thinking' | { call: number } | undefined;

  constructor(private readonly emit: (event: { type: string } & Record<string, unknown>) => void) {}

  push(delta: MessageDelta): void {
    if (delta.reasoning !== undefined) {
      this.ensure('thinking', { type: 'thinking', thinking: '', signature: '' });
      this.emit({ type: 'content_block_delta', index: this.index, delta: { type: 'thinking_delta', thinking: delta.reasoning } });
    }
    if (delta.content !== undefined) {
      this.ensure('text', { type: 'text', text: '' });
      this.emit({ type: 'content_block_delta', index: this.index, delta: { type: 'text_delta', text: delta.content } });
    }
    for (const call of delta.toolCalls ?? []) {
      if (call.id !== undefined) {
        this.close();
        this.start({ call: call.index }, { type: 'tool_use', id: call.id, name: call.function.name ?? '', input: {} });
      }
      if (call.function.arguments !== '') {
        this.emit({ type: 'content_block_delta', index: this.index, delta: { type: 'input_json_delta', partial_json: call.function.arguments } });
      }
    }
  }

  close(): void {
    if (this.open === undefined) return;
    // Anthropic ends a thinking block with its signature; local reasoning has none to give.
    if (this.open === 'thinking') this.emit({ type: 'content_block_delta', index: this.index, delta: { type: 'signature_delta', signature: '' } });
    this.emit({ type: 'content_block_stop', index: this.index });
    this.open = undefined;
  }

  private ensure(kind: 'text' | 'thinking', block: ContentBlock): void {
    if (this.open === kind) return;
    this.close();
    this.start(kind, block);
  }

  private start(kind: 'text' | 'thinking' | { call: number }, block: ContentBlock): void {
    this.index++;
    this.open = kind;
    this.emit({ type: 'content_block_start', index: this.index, content_block: block });
  }
}

export function contentOf(done: Done): ContentBlock[] {
  const blocks: ContentBlock[] = [];
  if (done.reasoning !== '') blocks.push({ type: 'thinking', thinking: done.reasoning, signature: '' });
  if (done.content !== null && done.content !== '') blocks.push({ type: 'text', text: done.content });
  for (const call of done.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) });
  return blocks;
}

/** Tool input is an object in Anthropic's API; the parser guarantees JSON, not its kind. */
function toolInput(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : { value };
}

export function stopReasonOf(done: Done): StopReason {
  if (done.finishReason === 'tool_calls') return 'tool_use';
  if (done.finishReason === 'length') return 'max_tokens';
  return done.stopSequence === undefined ? 'end_turn' : 'stop_sequence';
}

function usageOf(usage: GenerationUsage): { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number } {
  // Anthropic counts cache reads apart from input_tokens; their sum is the whole prompt.
  return {
    input_tokens: usage.promptTokens - usage.cachedPromptTokens,
    output_tokens: usage.completionTokens,
    cache_read_input_tokens: usage.cachedPromptTokens,
    cache_creation_input_tokens: 0,
  };
}

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
