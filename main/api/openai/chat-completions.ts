// POST /v1/chat/completions: the OpenAI dialect of the chat path, streamed or whole.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionMessageToolCall, ChatCompletionTokenLogprob } from 'openai/resources/chat/completions';
import type { ChatEvent, ChatService } from '../chat/chat-service.js';
import { parseChatBody } from './chat-request.js';
import { SseWriter } from '../streaming/sse.js';
import { openAIErrorBody } from './errors.js';
import { asTesseraError } from '../errors.js';
import { sendJson } from '../respond.js';
import type { GenerationUsage, TokenLogprobs } from '../../engine/index.js';

export function newCompletionId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString('base64url')}`;
}

export async function handleChatCompletions(
  service: ChatService,
  json: unknown,
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  void request;
  const { request: chatRequest, stream, includeUsage } = parseChatBody(json);
  const id = newCompletionId('chatcmpl');
  const created = Math.floor(Date.now() / 1000);
  const events = service.chat(chatRequest, signal);
  // The first event is awaited before anything is written, so request errors are plain HTTP errors.
  const first = await events.next();

  if (!stream) {
    const all: ChatEvent[] = first.done ? [] : [first.value];
    for await (const event of events) all.push(event);
    const done = all.find((event): event is Extract<ChatEvent, { type: 'done' }> => event.type === 'done');
    if (done === undefined) throw new Error('generation ended without a result');
    const toolCalls: ChatCompletionMessageToolCall[] = done.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    const body: ChatCompletion & { choices: { message: { reasoning_content?: string } }[] } = {
      id,
      object: 'chat.completion',
      created,
      model: chatRequest.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: done.content,
            refusal: null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            ...(done.reasoning ? { reasoning_content: done.reasoning } : {}),
          },
          finish_reason: done.finishReason,
          logprobs: chatRequest.logprobs === undefined ? null : { content: all.flatMap((event) => (event.type === 'logprobs' ? [logprobEntry(event.token)] : [])), refusal: null },
        },
      ],
      usage: usageOf(done.usage),
    };
    sendJson(response, 200, body);
    return;
  }

  const sse = new SseWriter(response);
  sse.open();
  // The first chunk also carries the role, as OpenAI's does (content null when it opens with a call).
  let roleSent = false;
  // Token log-probabilities ride on the next chunk sent after their token.
  let pendingLogprobs: ChatCompletionTokenLogprob[] = [];
  const chunk = (delta: ChatCompletionChunk.Choice.Delta & { reasoning_content?: string }, finishReason: ChatCompletionChunk.Choice['finish_reason'] = null): ChatCompletionChunk => {
    if (!roleSent) {
      roleSent = true;
      delta = { role: 'assistant', content: delta.tool_calls === undefined ? '' : null, ...delta };
    }
    return {
      id,
      object: 'chat.completion.chunk',
      created,
      model: chatRequest.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: takeLogprobs() }],
      ...(includeUsage ? { usage: null } : {}),
    };
  };
  const takeLogprobs = (): ChatCompletionChunk.Choice['logprobs'] => {
    if (chatRequest.logprobs === undefined) return null;
    const content = pendingLogprobs;
    pendingLogprobs = [];
    return { content, refusal: null };
  };
  try {
    const send = (event: ChatEvent): void => {
      if (event.type === 'logprobs') {
        pendingLogprobs.push(logprobEntry(event.token));
        return;
      }
      if (event.type === 'delta') {
        const { delta } = event;
        if (delta.content !== undefined) sse.send(chunk({ content: delta.content }));
        if (delta.reasoning !== undefined) sse.send(chunk({ reasoning_content: delta.reasoning }));
        if (delta.toolCalls !== undefined) {
          sse.send(
            chunk({
              tool_calls: delta.toolCalls.map((call) => ({
                index: call.index,
                ...(call.id === undefined ? {} : { id: call.id, type: 'function' as const }),
                function: { ...(call.function.name === undefined ? {} : { name: call.function.name }), arguments: call.function.arguments },
              })),
            }),
          );
        }
        return;
      }
      sse.send(chunk({}, event.finishReason));
      if (includeUsage) {
        sse.send({ id, object: 'chat.completion.chunk', created, model: chatRequest.model, choices: [], usage: usageOf(event.usage) });
      }
    };
    if (!first.done) send(first.value);
    for await (const event of events) send(event);
    sse.done();
  } catch (error) {
    // Too late for an HTTP status: report in the stream, as OpenAI does, and end it.
    if (!signal.aborted) sse.send(openAIErrorBody(asTesseraError(error)));
    response.end();
  }
}

function logprobEntry(token: TokenLogprobs): ChatCompletionTokenLogprob {
  return {
    token: token.text,
    bytes: [...token.bytes],
    logprob: token.logprob,
    top_logprobs: token.top.map((entry) => ({ token: entry.text, bytes: [...entry.bytes], logprob: entry.logprob })),
  };
}

function usageOf(usage: GenerationUsage): NonNullable<ChatCompletion['usage']> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
  };
}
