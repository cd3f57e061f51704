// Validates an OpenAI `POST /v1/responses` body and converts it into the internal ChatRequest:
// `input` as a string or items (messages, function_call, function_call_output), `instructions`,
// function tools, `text.format`. Stateless: nothing is stored, so `previous_response_id` and
// `conversation` get a clear 400.

import { z } from 'zod';
import { TesseraError } from '../../../shared/errors.js';
import type { JsonSchema } from '../../engine/sampling/grammar/json-schema.js';
import type { ChatMessage, ChatRequest, ResponseFormat, ToolChoice, ToolDefinition } from '../chat/request.js';
import { DEFAULT_SAMPLING } from './chat-request.js';
import { validBody } from '../request-validation.js';

const MAX_INPUT_ITEMS = 4096;
const MAX_TOOLS = 128;

const textPart = z.object({ type: z.enum(['input_text', 'output_text']), text: z.string() });
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });
const otherPart = z.object({ type: z.string().refine((type) => !['input_text', 'output_text', 'refusal'].includes(type), 'malformed content part') }).loose();
const content = z.union([z.string(), z.array(z.union([textPart, refusalPart, otherPart]))]);

const messageItem = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content,
});
const functionCallItem = z.object({ type: z.literal('function_call'), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() });
const functionCallOutputItem = z.object({ type: z.literal('function_call_output'), call_id: z.string().min(1), output: content });
const reasoningItem = z.object({ type: z.literal('reasoning') }).loose();
const item = z.union([messageItem, functionCallItem, functionCallOutputItem, reasoningItem]);

const functionTool = z.object({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'function names are 1-64 letters, digits, _ or -'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});
const otherTool = z.object({ type: z.string().refine((type) => type !== 'function', 'malformed function tool') }).loose();

const format = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({ type: z.literal('json_schema'), name: z.string(), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullish() }),
]);

const body = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(item).min(1).max(MAX_INPUT_ITEMS)]),
  instructions: z.string().nullish(),
  tools: z.array(z.union([functionTool, otherTool])).max(MAX_TOOLS).nullish(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.object({ type: z.literal('function'), name: z.string() })]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z.object({ format: format.nullish() }).nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().nullish(),
  conversation: z.unknown().optional(),
  metadata: z.record(z.string(), z.string()).nullish(),
});

export type ResponsesBody = z.infer<typeof body>;

export interface ParsedResponsesBody {
  readonly request: ChatRequest;
  readonly stream: boolean;
  readonly body: ResponsesBody;
}

export function parseResponsesBody(json: unknown): ParsedResponsesBody {
  const b = validBody(body.safeParse(json), 'Invalid request: ');
  if (b.previous_response_id) {
    throw new TesseraError('REQUEST_INVALID', 'previous_response_id is not supported: this server stores no responses. Send the whole conversation as input items.', { param: 'previous_response_id' });
  }
  if (b.conversation !== undefined && b.conversation !== null) {
    throw new TesseraError('REQUEST_INVALID', 'conversation is not supported: this server stores no conversations. Send the whole conversation as input items.', { param: 'conversation' });
  }
  const tools: ToolDefinition[] = (b.tools ?? []).map((tool, index) => {
    if (tool.type !== 'function') {
      throw new TesseraError('REQUEST_INVALID', `Tools of type "${String(tool.type)}" are not supported: only function tools.`, { param: `tools.${index}.type` });
    }
    const fn = tool as z.infer<typeof functionTool>;
    return {
      name: fn.name,
      ...(fn.description ? { description: fn.description } : {}),
      parameters: (fn.parameters ?? { type: 'object', properties: {} }) as JsonSchema,
      // Responses makes function tools strict unless told otherwise.
      strict: fn.strict !== false,
    };
  });
  let toolChoice: ToolChoice = b.tool_choice === undefined || b.tool_choice === null ? 'auto' : typeof b.tool_choice === 'string' ? b.tool_choice : { name: b.tool_choice.name };
  if (typeof toolChoice === 'object' && !tools.some((tool) => tool.name === (toolChoice as { name: string }).name)) {
    throw new TesseraError('REQUEST_INVALID', `tool_choice names "${toolChoice.name}", which is not among the tools.`, { param: 'tool_choice' });
  }
  if (toolChoice === 'required' && tools.length === 0) {
    throw new TesseraError('REQUEST_INVALID', 'tool_choice "required" needs at least one tool.', { param: 'tool_choice' });
  }
  if (tools.length === 0) toolChoice = 'none';

  const messages: ChatMessage[] = [];
  if (b.instructions) messages.push({ role: 'system', content: b.instructions });
  messages.push(...(typeof b.input === 'string' ? [{ role: 'user' as const, content: b.input }] : toChatMessages(b.input)));
  if (messages.length === 0 || messages.every((message) => message.role === 'system')) {
    throw new TesseraError('REQUEST_INVALID', 'input has no message to answer.', { param: 'input' });
  }
  return {
    request: {
      model: b.model,
      messages,
      tools,
      toolChoice,
      parallelToolCalls: b.parallel_tool_calls ?? true,
      responseFormat: toResponseFormat(b.text?.format),
      sampling: {
        temperature: b.temperature ?? DEFAULT_SAMPLING.temperature,
        topP: b.top_p ?? DEFAULT_SAMPLING.topP,
        topK: DEFAULT_SAMPLING.topK,
        minP: DEFAULT_SAMPLING.minP,
        presencePenalty: 0,
        frequencyPenalty: 0,
        repetitionPenalty: 1,
      },
      ...(b.max_output_tokens ? { maxTokens: b.max_output_tokens } : {}),
      stop: [],
    },
    stream: b.stream === true,
    body: b,
  };
}

function toResponseFormat(value: z.infer<typeof format> | null | undefined): ResponseFormat {
  if (value === undefined || value === null || value.type === 'text') return { type: 'text' };
  if (value.type === 'json_object') return { type: 'json_object' };
  return { type: 'json_schema', name: value.name, schema: value.schema as JsonSchema, strict: value.strict === true };
}

/** Items in order; consecutive function_call items become one assistant turn with parallel calls. */
function toChatMessages(items: readonly z.infer<typeof item>[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  const toolNames = new Map<string, string>();
  items.forEach((entry, index) => {
    const param = `input.${index}`;
    if (entry.type === 'reasoning') return; // reasoning of earlier turns is not shown to the model again
    if (entry.type === 'function_call') {
      toolNames.set(entry.call_id, entry.name);
      const call = { id: entry.call_id, name: entry.name, arguments: entry.arguments };
      const last = out.at(-1);
      if (last?.role === 'assistant') out[out.length - 1] = { ...last, toolCalls: [...last.toolCalls, call] };
      else out.push({ role: 'assistant', content: null, toolCalls: [call] });
      return;
    }
    if (entry.type === 'function_call_output') {
      const name = toolNames.get(entry.call_id);
      out.push({ role: 'tool', content: textOf(entry.output, param), toolCallId: entry.call_id, ...(name === undefined ? {} : { name }) });
      return;
    }
    const message = entry as z.infer<typeof messageItem>;
    const text = textOf(message.content, `${param}.content`);
    if (message.role === 'assistant') out.push({ role: 'assistant', content: text, toolCalls: [] });
    else out.push({ role: message.role === 'user' ? 'user' : 'system', content: text });
  });
  return out;
}

function textOf(value: z.infer<typeof content>, param: string): string {
  if (typeof value === 'string') return value;
  return value
    .map((part) => {
      if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string') return part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      throw new TesseraError('REQUEST_INVALID', `Content parts of type "${part.type}" are not supported: this model reads text only.`, { param });
    })
    .join('');
}
