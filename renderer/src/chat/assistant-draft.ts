// Builds the assistant's message from streamed chunks: content pieces appended, tool calls
// assembled by index (id and name arrive first, arguments in pieces). Pure, tested under Node.

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface AssistantDraft {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage: { promptTokens: number; completionTokens: number } | null;
}

/** The parts of an OpenAI `chat.completion.chunk` this UI reads. */
export interface ChatChunk {
  choices?: Array<{
    delta?: {
      content?: string | null;
      reasoning_content?: string;
      tool_calls?: Array<{ index: number; id?: string; function?: { name?: string; arguments?: string } }>;
    };
    finish_reason?: string | null;
  }>;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  error?: { message?: string };
}

export function emptyDraft(): AssistantDraft {
  return { content: '', reasoning: '', toolCalls: [], finishReason: null, usage: null };
}

/** The draft after one chunk; `changed` says whether it brought text or a tool call (for time to first token). */
export function applyChunk(draft: AssistantDraft, chunk: ChatChunk): { draft: AssistantDraft; changed: boolean } {
  let next = draft;
  let changed = false;
  for (const choice of chunk.choices ?? []) {
    const delta = choice.delta ?? {};
    if (delta.content) {
      next = { ...next, content: next.content + delta.content };
      changed = true;
    }
    if (delta.reasoning_content) {
      next = { ...next, reasoning: next.reasoning + delta.reasoning_content };
      changed = true;
    }
    for (const piece of delta.tool_calls ?? []) {
      const calls = [...next.toolCalls];
      const existing = calls[piece.index] ?? { id: '', type: 'function' as const, function: { name: '', arguments: '' } };
      calls[piece.index] = {
        ...existing,
        id: piece.id ?? existing.id,
        function: {
          name: existing.function.name + (piece.function?.name ?? ''),
          arguments: existing.function.arguments + (piece.function?.arguments ?? ''),
        },
      };
      next = { ...next, toolCalls: calls };
      changed = true;
    }
    if (choice.finish_reason) next = { ...next, finishReason: choice.finish_reason };
  }
  if (chunk.usage) next = { ...next, usage: { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens } };
  return { draft: next, changed };
}
