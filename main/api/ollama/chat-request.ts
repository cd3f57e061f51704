// Validates Ollama `POST /api/chat` and `POST /api/generate` bodies and converts them into the
// internal ChatRequest (or a raw text completion for `generate` with `raw: true`): messages with
// tool_calls whose arguments are objects, `options` (temperature, num_predict, top_p, top_k,
// min_p, seed, stop, penalties; num_ctx is accepted and ignored: the context is set when the
// model loads), `format` ("json" or a JSON schema, enforced by the grammar).

import { z } from 'zod';
import { TesseraError } from '../../../shared/errors.js';
import type { JsonSchema } from '../../engine/sampling/grammar/json-schema.js';
import type { TextCompletionRequest } from '../chat/chat-service.js';
import type { ChatMessage, ChatRequest, ResponseFormat, SamplingSettings, ToolDefinition } from '../chat/request.js';
import { DEFAULT_SAMPLING } from '../openai/chat-request.js';
import { validBody } from '../request-validation.js';

const MAX_MESSAGES = 4096;
const MAX_TOOLS = 128;
const MAX_STOP_SEQUENCES = 16;

const toolCall = z.object({
  function: z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).default({}) }),
});

const message = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().default(''),
  images: z.array(z.string()).nullish(),
  tool_calls: z.array(toolCall).nullish(),
  thinking: z.string().nullish(),
  tool_name: z.string().nullish(),
});

const tool = z.object({
  type: z.literal('function').default('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names are 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});

const options = z
  .object({
    temperature: z.number().min(0).max(2),
    top_p: z.number().min(0).max(1),
    top_k: z.number().int().min(0),
    min_p: z.number().min(0).max(1),
    seed: z.number().int(),
    num_predict: z.number().int(),
    stop: z.array(z.string()).max(MAX_STOP_SEQUENCES),
    num_ctx: z.number().int().positive(),
    repeat_penalty: z.number().positive(),
    presence_penalty: z.number().min(-2).max(2),
    frequency_penalty: z.number().min(-2).max(2),
  })
  .partial()
  .loose();

const format = z.union([z.literal(''), z.literal('json'), z.record(z.string(), z.unknown())]);

const common = {
  model: z.string().min(1),
  format: format.nullish(),
  options: options.nullish(),
  stream: z.boolean().nullish(),
  keep_alive: z.union([z.string(), z.number()]).nullish(),
  think: z.union([z.boolean(), z.string()]).nullish(),
};

const chatBody = z.object({ ...common, messages: z.array(message).max(MAX_MESSAGES).default([]), tools: z.array(tool).max(MAX_TOOLS).nullish() });

const generateBody = z.object({
  ...common,
  prompt: z.string().default(''),
  system: z.string().nullish(),
  suffix: z.string().nullish(),
  template: z.string().nullish(),
  raw: z.boolean().nullish(),
  images: z.array(z.string()).nullish(),
  context: z.array(z.number()).nullish(),
});

export interface ParsedOllamaChat {
  readonly model: string;
  /** Undefined when there is nothing to answer: Ollama then only loads the model. */
  readonly request?: ChatRequest;
  /** Ollama streams unless told `stream: false`. */
  readonly stream: boolean;
}

export function parseOllamaChat(json: unknown): ParsedOllamaChat {
  const b = validBody(chatBody.safeParse(json));
  const stream = b.stream !== false;
  if (b.messages.length === 0) return { model: b.model, stream };
  const tools: ToolDefinition[] = (b.tools ?? []).map((entry) => ({
    name: entry.function.name,
    ...(entry.function.description === undefined ? {} : { description: entry.function.description }),
    parameters: (entry.function.parameters ?? { type: 'object', properties: {} }) as JsonSchema,
    strict: false,
  }));
  return {
    model: b.model,
    stream,
    request: {
      model: b.model,
      messages: toChatMessages(b.messages),
      tools,
      toolChoice: tools.length > 0 ? 'auto' : 'none',
      parallelToolCalls: true,
      responseFormat: toResponseFormat(b.format),
      ...generation(b.options),
    },
  };
}

export type ParsedOllamaGenerate =
  | { readonly kind: 'load'; readonly model: string; readonly stream: boolean }
  | { readonly kind: 'chat'; readonly model: string; readonly stream: boolean; readonly request: ChatRequest }
  | { readonly kind: 'raw'; readonly model: string; readonly stream: boolean; readonly request: TextCompletionRequest };

export function parseOllamaGenerate(json: unknown): ParsedOllamaGenerate {
  const b = validBody(generateBody.safeParse(json));
  const stream = b.stream !== false;
  for (const field of ['suffix', 'template', 'images'] as const) {
    const value = b[field];
    if (value !== undefined && value !== null && value.length > 0) {
      throw new TesseraError('REQUEST_INVALID', `"${field}" is not supported by this server.`, { param: field });
    }
  }
  if (b.prompt === '') return { kind: 'load', model: b.model, stream };
  const settings = generation(b.options);
  if (b.raw === true) {
    if (b.format) throw new TesseraError('REQUEST_INVALID', '"format" needs the chat template: it cannot be used with raw: true.', { param: 'format' });
    return { kind: 'raw', model: b.model, stream, request: { model: b.model, prompt: b.prompt, ...settings } };
  }
  const messages: ChatMessage[] = [...(b.system ? [{ role: 'system' as const, content: b.system }] : []), { role: 'user', content: b.prompt }];
  return {
    kind: 'chat',
    model: b.model,
    stream,
    request: { model: b.model, messages, tools: [], toolChoice: 'none', parallelToolCalls: false, responseFormat: toResponseFormat(b.format), ...settings },
  };
}

function generation(o: z.infer<typeof options> | null | undefined): { sampling: SamplingSettings; maxTokens?: number; stop: readonly string[] } {
  const sampling: SamplingSettings = {
    temperature: o?.temperature ?? DEFAULT_SAMPLING.temperature,
    topP: o?.top_p ?? DEFAULT_SAMPLING.topP,
    topK: o?.top_k ?? DEFAULT_SAMPLING.topK,
    minP: o?.min_p ?? DEFAULT_SAMPLING.minP,
    presencePenalty: o?.presence_penalty ?? 0,
    frequencyPenalty: o?.frequency_penalty ?? 0,
    repetitionPenalty: o?.repeat_penalty ?? 1,
    ...(o?.seed === undefined ? {} : { seed: o.seed }),
  };
  // num_predict: -1 (and -2, "fill the context") mean no limit but the context.
  const maxTokens = o?.num_predict !== undefined && o.num_predict > 0 ? o.num_predict : undefined;
  return { sampling, ...(maxTokens === undefined ? {} : { maxTokens }), stop: o?.stop ?? [] };
}

function toResponseFormat(value: z.infer<typeof format> | null | undefined): ResponseFormat {
  if (value === undefined || value === null || value === '') return { type: 'text' };
  if (value === 'json') return { type: 'json_object' };
  return { type: 'json_schema', name: 'format', schema: value as JsonSchema, strict: true };
}

/**
 * Ollama's tool calls carry no ids: each call gets one here, and each tool message answers the
 * oldest call not yet answered (Ollama's own order).
 */
function toChatMessages(messages: readonly z.infer<typeof message>[]): ChatMessage[] {
  const unanswered: { id: string; name: string }[] = [];
  let calls = 0;
  return messages.map((entry, index): ChatMessage => {
    if (entry.images !== undefined && entry.images !== null && entry.images.length > 0) {
      throw new TesseraError('REQUEST_INVALID', 'Images are not supported: this model reads text only.', { param: `messages.${index}.images` });
    }
    switch (entry.role) {
      case 'system':
      case 'user':
        return { role: entry.role, content: entry.content };
      case 'assistant': {
        const toolCalls = (entry.tool_calls ?? []).map((call) => {
          const id = `call_${calls++}`;
          unanswered.push({ id, name: call.function.name });
          return { id, name: call.function.name, arguments: JSON.stringify(call.function.arguments) };
        });
        return { role: 'assistant', content: entry.content, toolCalls, ...(entry.thinking ? { reasoning: entry.thinking } : {}) };
      }
      case 'tool': {
        const answered = unanswered.shift();
        const name = entry.tool_name ?? answered?.name;
        return { role: 'tool', content: entry.content, toolCallId: answered?.id ?? `call_${calls++}`, ...(name ? { name } : {}) };
      }
      default: {
        const unknown: never = entry.role;
        throw new TesseraError('REQUEST_INVALID', `unknown role ${String(unknown)}`);
      }
    }
  });
}

