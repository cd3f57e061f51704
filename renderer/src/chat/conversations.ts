// Conversations as the chat page keeps them, saved in localStorage so they outlive a restart.
// Messages are in the OpenAI shape they are sent in, plus the figures shown under each answer.
import type { ToolCall } from './assistant-draft.js';
import { EXAMPLE_TOOLS, type ToolDefinition } from './demo-tools.js';

export interface AnswerStats {
  timeToFirstTokenMs: number | null;
  tokensPerSecond: number | null;
  completionTokens: number | null;
  finishReason: string | null;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; reasoning?: string; tool_calls?: ToolCall[]; stats?: AnswerStats; stopped?: boolean }
  | { role: 'tool'; tool_call_id: string; name: string; content: string };

export interface SamplingSettings {
  temperature: number;
  topP: number;
  maxTokens: number;
  /** Empty for a random seed. */
  seed: string;
}

/** 'auto' | 'none' | 'required' | a tool's name (that function, forced). */
export type ToolChoice = string;

export interface Conversation {
  id: string;
  title: string;
  model: string;
  systemPrompt: string;
  sampling: SamplingSettings;
  tools: ToolDefinition[];
  toolChoice: ToolChoice;
  messages: ChatMessage[];
  updatedAt: number;
}

const STORAGE_KEY = 'tessera.chat.conversations.v1';
/** Conversations kept; the oldest go first. */
export const MAX_SAVED_CONVERSATIONS = 50;

export const DEFAULT_SAMPLING: SamplingSettings = { temperature: 0.7, topP: 0.95, maxTokens: 256, seed: '' };

export function newConversation(model: string): Conversation {
  return {
    id: `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    title: 'New chat',
    model,
    systemPrompt: 'You are a helpful assistant.',
    sampling: { ...DEFAULT_SAMPLING },
    tools: EXAMPLE_TOOLS.map((tool) => ({ ...tool, enabled: false })),
    toolChoice: 'auto',
    messages: [],
    updatedAt: Date.now(),
  };
}

export function loadConversations(storage: { getItem(key: string): string | null }): Conversation[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as Conversation[]).filter((item) => typeof item?.id === 'string' && Array.isArray(item.messages)) : [];
  } catch {
    return [];
  }
}

export function saveConversations(storage: { setItem(key: string, value: string): void }, conversations: readonly Conversation[]): void {
  const newest = [...conversations].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, MAX_SAVED_CONVERSATIONS);
  storage.setItem(STORAGE_KEY, JSON.stringify(newest));
}

/** The request body for the conversation as it stands (tools only when some are enabled and valid). */
export function requestBody(conversation: Conversation): Record<string, unknown> {
  const tools = conversation.tools.filter((tool) => tool.enabled && tool.name.trim() !== '').map((tool) => ({
    type: 'function',
    function: { name: tool.name.trim(), description: tool.description, parameters: JSON.parse(tool.parameters || '{}') as unknown },
  }));
  const { sampling } = conversation;
  const messages = [
    ...(conversation.systemPrompt.trim() ? [{ role: 'system', content: conversation.systemPrompt }] : []),
    ...conversation.messages.map((message) => {
      if (message.role !== 'assistant') return message;
      return { role: 'assistant', content: message.content, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) };
    }),
  ];
  const choice = conversation.toolChoice;
  return {
    model: conversation.model,
    messages,
    temperature: sampling.temperature,
    top_p: sampling.topP,
    max_tokens: sampling.maxTokens,
    ...(sampling.seed.trim() !== '' && Number.isInteger(Number(sampling.seed)) ? { seed: Number(sampling.seed) } : {}),
    ...(tools.length > 0
      ? { tools, tool_choice: choice === 'auto' || choice === 'none' || choice === 'required' ? choice : { type: 'function', function: { name: choice } } }
      : {}),
  };
}

/** Tool calls of the last assistant message that have no result yet. */
export function unansweredToolCalls(messages: readonly ChatMessage[]): ToolCall[] {
  let lastAssistant = messages.length - 1;
  while (lastAssistant >= 0 && messages[lastAssistant]!.role !== 'assistant') lastAssistant -= 1;
  if (lastAssistant === -1) return [];
  const assistant = messages[lastAssistant] as Extract<ChatMessage, { role: 'assistant' }>;
  const answered = new Set(messages.slice(lastAssistant + 1).flatMap((message) => (message.role === 'tool' ? [message.tool_call_id] : [])));
  return (assistant.tool_calls ?? []).filter((call) => !answered.has(call.id));
}

/** A title from the first user message. */
export function titleFor(messages: readonly ChatMessage[]): string {
  const first = messages.find((message) => message.role === 'user');
  const text = first?.content.trim().replace(/\s+/g, ' ') ?? '';
  return text === '' ? 'New chat' : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
