// Validates an Anthropic `POST /v1/messages` (or count_tokens) body and converts it into the
// internal ChatRequest: system prompt, content blocks (text, tool_use, tool_result, thinking),
// tools with input_schema, tool_choice, stop_sequences. Unknown fields are ignored; content
// this server cannot read (images, documents, server tools) gets a clear 400.

import { z } from 'zod';
import { TesseraError } from '../../../shared/errors.js';
import type { JsonSchema } from '../../engine/sampling/grammar/json-schema.js';
import type { ChatMessage, ChatRequest, ToolChoice, ToolDefinition } from '../chat/request.js';
import { DEFAULT_SAMPLING } from '../openai/chat-request.js';
import { validBody } from '../request-validation.js';

const MAX_MESSAGES = 4096;
const MAX_TOOLS = 128;
const MAX_STOP_SEQUENCES = 16;

const textBlock = z.object({ type: z.literal('text'), text: z.string() });
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() });
const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.object({ type: z.string() }).loose())]).optional(),
  is_error: z.boolean().optional(),
});
const thinkingBlock = z.object({ type: z.literal('thinking'), thinking: z.string() });
/** Blocks we take in only to refuse them by name (images, documents, …); a malformed known block fails above. */
const KNOWN_BLOCKS = ['text', 'tool_use', 'tool_result', 'thinking'];
const otherBlock = z.object({ type: z.string().refine((type) => !KNOWN_BLOCKS.includes(type), 'malformed content block') }).loose();
const block = z.union([textBlock, toolUseBlock, toolResultBlock, thinkingBlock, otherBlock]);

const message = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});

const tool = z.object({
  type: z.string().optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'tool names are 1-128 letters, digits, _ or -'),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
});

const toolChoice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.object({ type: z.literal('none') }),
]);

const conversation = {
  model: z.string().min(1),
  messages: z.array(message).min(1).max(MAX_MESSAGES),
  system: z.union([z.string(), z.array(textBlock.loose())]).optional(),
  tools: z.array(tool).max(MAX_TOOLS).optional(),
  tool_choice: toolChoice.optional(),
};

const messagesBody = z.object({
  ...conversation,
  max_tokens: z.number().int().positive(),
  stop_sequences: z.array(z.string()).max(MAX_STOP_SEQUENCES).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
});

const countTokensBody = z.object(conversation);

export interface ParsedMessagesBody {
  readonly request: ChatRequest;
  readonly stream: boolean;
}

export function parseMessagesBody(json: unknown): ParsedMessagesBody {
  const body = validBody(messagesBody.safeParse(json));
  return {
    request: {
      ...conversationOf(body),
      sampling: {
        temperature: body.temperature ?? DEFAULT_SAMPLING.temperature,
        topP: body.top_p ?? DEFAULT_SAMPLING.topP,
        topK: body.top_k ?? DEFAULT_SAMPLING.topK,
        minP: DEFAULT_SAMPLING.minP,
        presencePenalty: 0,
        frequencyPenalty: 0,
        repetitionPenalty: 1,
      },
      maxTokens: body.max_tokens,
      stop: body.stop_sequences ?? [],
    },
    stream: body.stream === true,
  };
}

/** A count_tokens body as a ChatRequest (no generation settings). */
export function parseCountTokensBody(json: unknown): ChatRequest {
  const body = validBody(countTokensBody.safeParse(json));
  return {
    ...conversationOf(body),
    sampling: { temperature: 0, topP: 1, topK: 0, minP: 0, presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1 },
    stop: [],
  };
}

type Conversation = z.infer<typeof countTokensBody>;

function conversationOf(body: Conversation): Omit<ChatRequest, 'sampling' | 'stop' | 'maxTokens'> {
  const tools: ToolDefinition[] = (body.tools ?? []).map((entry, index) => {
    if (entry.type !== undefined && entry.type !== 'custom') {
      throw new TesseraError('REQUEST_INVALID', `tools[${index}]: server tools ("${entry.type}") are not supported; define a custom tool with input_schema.`, { param: `tools.${index}.type` });
    }
    return {
      name: entry.name,
      ...(entry.description === undefined ? {} : { description: entry.description }),
      parameters: (entry.input_schema ?? { type: 'object', properties: {} }) as JsonSchema,
      // Anthropic validates tool input against input_schema: constrain sampling by it when forced.
      strict: true,
    };
  });
  const choice = body.tool_choice ?? { type: 'auto' as const };
  let toolChoice: ToolChoice = choice.type === 'any' ? 'required' : choice.type === 'tool' ? { name: choice.name } : choice.type;
  if (typeof toolChoice === 'object' && !tools.some((t) => t.name === (toolChoice as { name: string }).name)) {
    throw new TesseraError('REQUEST_INVALID', `tool_choice names "${toolChoice.name}", which is not among the tools.`, { param: 'tool_choice' });
  }
  if (toolChoice === 'required' && tools.length === 0) {
    throw new TesseraError('REQUEST_INVALID', 'tool_choice "any" needs at least one tool.', { param: 'tool_choice' });
  }
  if (tools.length === 0) toolChoice = 'none';
  const system = body.system === undefined ? '' : typeof body.system === 'string' ? body.system : body.system.map((part) => part.text).join('\n');
  return {
    model: body.model,
    messages: [...(system === '' ? [] : [{ role: 'system' as const, content: system }]), ...toChatMessages(body.messages)],
    tools,
    toolChoice,
    parallelToolCalls: !('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true),
    responseFormat: { type: 'text' },
  };
}

/**
 * Anthropic keeps tool results inside user turns; the chat templates want one `tool` message
 * per result. A user turn becomes its tool messages and its text, in the order written.
 */
function toChatMessages(messages: Conversation['messages']): ChatMessage[] {
  const toolNames = new Map<string, string>();
  const out: ChatMessage[] = [];
  messages.forEach((entry, index) => {
    const param = `messages.${index}.content`;
    if (typeof entry.content === 'string') {
      out.push(entry.role === 'user' ? { role: 'user', content: entry.content } : { role: 'assistant', content: entry.content, toolCalls: [] });
      return;
    }
    if (entry.role === 'assistant') {
      let text = '';
      let reasoning = '';
      const toolCalls = [];
      for (const part of entry.content) {
        if (isBlock(part, 'text')) text += part.text;
        else if (isBlock(part, 'thinking')) reasoning += part.thinking;
        else if (isBlock(part, 'tool_use')) {
          toolNames.set(part.id, part.name);
          toolCalls.push({ id: part.id, name: part.name, arguments: JSON.stringify(part.input ?? {}) });
        } else if (part.type !== 'redacted_thinking') throw unsupportedBlock(part.type, param);
      }
      out.push({ role: 'assistant', content: text, toolCalls, ...(reasoning === '' ? {} : { reasoning }) });
      return;
    }
    let text = '';
    const flushText = (): void => {
      if (text !== '') out.push({ role: 'user', content: text });
      text = '';
    };
    for (const part of entry.content) {
      if (isBlock(part, 'text')) text += part.text;
      else if (isBlock(part, 'tool_result')) {
        flushText();
        const result = toolResultText(part.content, param);
        const name = toolNames.get(part.tool_use_id);
        out.push({
          role: 'tool',
          content: part.is_error === true ? `Error: ${result}` : result,
          toolCallId: part.tool_use_id,
          ...(name === undefined ? {} : { name }),
        });
      } else throw unsupportedBlock(part.type, param);
    }
    flushText();
  });
  return out;
}

type Block = z.infer<typeof block>;

function isBlock<T extends 'text' | 'tool_use' | 'tool_result' | 'thinking'>(
  part: Block,
  type: T,
): part is Extract<Block, { type: T }> {
  return part.type === type;
}

function toolResultText(content: z.infer<typeof toolResultBlock>['content'], param: string): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part) => {
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      throw unsupportedBlock(part.type, param);
    })
    .join('\n');
}

function unsupportedBlock(type: string, param: string): TesseraError {
  return new TesseraError('REQUEST_INVALID', `Content blocks of type "${type}" are not supported here: this model reads text only.`, { param });
}

