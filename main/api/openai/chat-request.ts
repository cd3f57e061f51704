// Validates an OpenAI `POST /v1/chat/completions` body and converts it into the internal
// ChatRequest. Unknown fields are ignored, as OpenAI does; fields we cannot honour get a
// clear 400 naming the field.

import { z } from 'zod';
import { TesseraError } from '../../../shared/errors.js';
import type { ChatMessage, ChatRequest, ResponseFormat, SamplingSettings, ToolChoice, ToolDefinition } from '../chat/request.js';
import type { JsonSchema } from '../../engine/sampling/grammar/json-schema.js';

/** Sampling defaults where a request leaves a field out (those of llama.cpp's server). */
export const DEFAULT_SAMPLING = {
  temperature: 0.8,
  topP: 0.95,
  topK: 40,
  minP: 0.05,
} as const;

const MAX_STOP_SEQUENCES = 16;
const MAX_TOOLS = 128;
const MAX_MESSAGES = 4096;

/** The sampling fields both OpenAI generation endpoints (chat and completions) take. */
export const samplingBody = z.object({
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().positive().nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(MAX_STOP_SEQUENCES)]).nullish(),
});
export type SamplingBody = z.infer<typeof samplingBody>;

/** Sampling settings from the request, with the defaults above where it is silent. */
export function samplingOf(b: SamplingBody): SamplingSettings {
  return {
    temperature: b.temperature ?? DEFAULT_SAMPLING.temperature,
    topP: b.top_p ?? DEFAULT_SAMPLING.topP,
    topK: b.top_k ?? DEFAULT_SAMPLING.topK,
    minP: b.min_p ?? DEFAULT_SAMPLING.minP,
    presencePenalty: b.presence_penalty ?? 0,
    frequencyPenalty: b.frequency_penalty ?? 0,
    repetitionPenalty: b.repetition_penalty ?? 1,
    ...(b.seed === undefined || b.seed === null ? {} : { seed: b.seed }),
  };
}

/** `stop` as a list (OpenAI takes a string or an array). */
export function stopListOf(b: SamplingBody): string[] {
  return b.stop === undefined || b.stop === null ? [] : typeof b.stop === 'string' ? [b.stop] : b.stop;
}

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const otherPart = z.object({ type: z.string() }).loose();
const content = z.union([z.string(), z.array(z.union([textPart, otherPart]))]);

const toolCall = z.object({
  id: z.string(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content }),
  z.object({ role: z.literal('developer'), content }),
  z.object({ role: z.literal('user'), content }),
  z.object({
    role: z.literal('assistant'),
    content: content.nullish(),
    tool_calls: z.array(toolCall).nullish(),
    function_call: z.object({ name: z.string(), arguments: z.string() }).nullish(),
    reasoning_content: z.string().nullish(),
  }),
  z.object({ role: z.literal('tool'), content, tool_call_id: z.string() }),
  z.object({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }),
]);

const functionDefinition = z.object({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names are 1-64 letters, digits, _ or -'),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  strict: z.boolean().nullish(),
});

const namedChoice = z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) });

const body = samplingBody.extend({
  model: z.string().min(1),
  messages: z.array(message).min(1).max(MAX_MESSAGES),
  tools: z.array(z.object({ type: z.literal('function'), function: functionDefinition })).max(MAX_TOOLS).nullish(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), namedChoice]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  functions: z.array(functionDefinition).max(MAX_TOOLS).nullish(),
  function_call: z.union([z.enum(['none', 'auto']), z.object({ name: z.string() })]).nullish(),
  response_format: z
    .discriminatedUnion('type', [
      z.object({ type: z.literal('text') }),
      z.object({ type: z.literal('json_object') }),
      z.object({
        type: z.literal('json_schema'),
        json_schema: z.object({
          name: z.string(),
          schema: z.record(z.string(), z.unknown()).optional(),
          strict: z.boolean().nullish(),
        }),
      }),
    ])
    .nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  n: z.number().int().nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().nullish(),
});

export type OpenAIChatBody = z.infer<typeof body>;

export interface ParsedChatBody {
  readonly request: ChatRequest;
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

export function parseChatBody(json: unknown): ParsedChatBody {
  const parsed = body.safeParse(json);
  if (!parsed.success) throw invalidFromZod(parsed.error);
  const b = parsed.data;
  if (b.n !== undefined && b.n !== null && b.n !== 1) {
    throw new TesseraError('REQUEST_INVALID', 'Only n=1 is supported: ask again for another choice.', { param: 'n' });
  }
  if (b.top_logprobs && !b.logprobs) {
    throw new TesseraError('REQUEST_INVALID', 'top_logprobs needs logprobs: true.', { param: 'top_logprobs' });
  }

  const tools: ToolDefinition[] = [...(b.tools ?? []).map((tool) => tool.function), ...(b.functions ?? [])].map((fn) => ({
    name: fn.name,
    ...(fn.description === undefined ? {} : { description: fn.description }),
    parameters: (fn.parameters ?? { type: 'object', properties: {} }) as JsonSchema,
    strict: fn.strict === true,
  }));
  const toolChoice = toToolChoice(b, tools);

  return {
    request: {
      model: b.model,
      messages: b.messages.map(toChatMessage),
      tools,
      toolChoice,
      parallelToolCalls: b.parallel_tool_calls ?? true,
      responseFormat: toResponseFormat(b.response_format),
      sampling: samplingOf(b),
      ...(maxTokensOf(b) === undefined ? {} : { maxTokens: maxTokensOf(b)! }),
      stop: stopListOf(b),
      ...(b.logprobs ? { logprobs: { top: b.top_logprobs ?? 0 } } : {}),
    },
    stream: b.stream === true,
    includeUsage: b.stream_options?.include_usage === true,
  };
}

function maxTokensOf(b: OpenAIChatBody): number | undefined {
  return b.max_completion_tokens ?? b.max_tokens ?? undefined;
}

function toToolChoice(b: OpenAIChatBody, tools: readonly ToolDefinition[]): ToolChoice {
  let choice: ToolChoice;
  if (b.tool_choice !== undefined && b.tool_choice !== null) {
    choice = typeof b.tool_choice === 'string' ? b.tool_choice : { name: b.tool_choice.function.name };
  } else if (b.function_call !== undefined && b.function_call !== null) {
    choice = typeof b.function_call === 'string' ? b.function_call : { name: b.function_call.name };
  } else {
    choice = 'auto';
  }
  if (typeof choice === 'object' && !tools.some((tool) => tool.name === choice.name)) {
    throw new TesseraError('REQUEST_INVALID', `tool_choice names "${choice.name}", which is not among the tools.`, { param: 'tool_choice' });
  }
  if (choice === 'required' && tools.length === 0) {
    throw new TesseraError('REQUEST_INVALID', 'tool_choice "required" needs at least one tool.', { param: 'tool_choice' });
  }
  return tools.length === 0 ? 'none' : choice;
}

function toResponseFormat(format: OpenAIChatBody['response_format']): ResponseFormat {
  if (format === undefined || format === null || format.type === 'text') return { type: 'text' };
  if (format.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    name: format.json_schema.name,
    schema: (format.json_schema.schema ?? {}) as JsonSchema,
    strict: format.json_schema.strict === true,
  };
}

function toChatMessage(m: OpenAIChatBody['messages'][number], index: number): ChatMessage {
  const param = `messages[${index}].content`;
  switch (m.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: textOf(m.content, param) };
    case 'user':
      return { role: 'user', content: textOf(m.content, param) };
    case 'assistant': {
      const calls = (m.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
      if (m.function_call) calls.push({ id: `call_legacy_${index}`, name: m.function_call.name, arguments: m.function_call.arguments });
      const text = m.content === undefined || m.content === null ? null : textOf(m.content, param);
      return {
        role: 'assistant',
        content: text,
        toolCalls: calls,
        ...(m.reasoning_content ? { reasoning: m.reasoning_content } : {}),
      };
    }
    case 'tool':
      return { role: 'tool', content: textOf(m.content, param), toolCallId: m.tool_call_id };
    case 'function':
      return { role: 'tool', content: m.content ?? '', toolCallId: `call_legacy_${index}`, name: m.name };
    default: {
      const unreachable: never = m;
      return unreachable;
    }
  }
}

/** The text of a content field; parts other than text (images, audio, files) are refused plainly. */
function textOf(value: z.infer<typeof content>, param: string): string {
  if (typeof value === 'string') return value;
  return value
    .map((part) => {
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      throw new TesseraError('REQUEST_INVALID', `Content parts of type "${part.type}" are not supported: this model reads text only.`, { param });
    })
    .join('');
}

function invalidFromZod(error: z.ZodError): TesseraError {
  const issue = error.issues[0];
  const param = issue?.path.map((part, i) => (typeof part === 'number' ? `[${part}]` : `${i > 0 ? '.' : ''}${String(part)}`)).join('') ?? '';
  const message = issue === undefined ? 'invalid request' : `${param ? `${param}: ` : ''}${issue.message}`;
  return new TesseraError('REQUEST_INVALID', `Invalid request: ${message}`, param ? { param } : {});
}
