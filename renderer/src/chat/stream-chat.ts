// One streamed chat completion against the node's own OpenAI API (`/v1/chat/completions`), read
// with fetch and parsed as SSE here, the way any OpenAI client would. Aborting the signal ends
// the fetch, and the node cancels the generation when its client goes away.
import { OPENAI_API_PREFIX } from '../../../shared/control.js';
import { SseDecoder } from './sse.js';
import { applyChunk, emptyDraft, type AssistantDraft, type ChatChunk } from './assistant-draft.js';

export interface StreamTimings {
  /** Milliseconds from sending to the first text or tool-call piece. */
  timeToFirstTokenMs: number | null;
  /** Generated tokens per second after the first one arrived. */
  tokensPerSecond: number | null;
  totalMs: number;
}

export interface StreamChatOptions {
  body: Record<string, unknown>;
  apiKey: string | null;
  signal: AbortSignal;
  onDraft: (draft: AssistantDraft) => void;
}

export class ChatRequestError extends Error {}

export async function streamChat(options: StreamChatOptions): Promise<{ draft: AssistantDraft; timings: StreamTimings }> {
  const started = performance.now();
  const response = await fetch(`${OPENAI_API_PREFIX}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
    body: JSON.stringify({ ...options.body, stream: true, stream_options: { include_usage: true } }),
    signal: options.signal,
  });
  if (!response.ok || !response.body) {
    const payload = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new ChatRequestError(payload?.error?.message ?? `HTTP ${response.status}`);
  }

  const decoder = new SseDecoder();
  const text = new TextDecoder();
  const reader = response.body.getReader();
  let draft = emptyDraft();
  let firstAt: number | null = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const data of decoder.push(text.decode(value, { stream: true }))) {
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data) as ChatChunk;
        if (chunk.error) throw new ChatRequestError(chunk.error.message ?? 'the generation failed');
        const applied = applyChunk(draft, chunk);
        draft = applied.draft;
        if (applied.changed && firstAt === null) firstAt = performance.now();
        options.onDraft(draft);
      }
    }
  } finally {
    reader.releaseLock();
  }
  const ended = performance.now();
  const tokens = draft.usage?.completionTokens ?? null;
  const decodeSeconds = firstAt === null ? 0 : (ended - firstAt) / 1000;
  return {
    draft,
    timings: {
      timeToFirstTokenMs: firstAt === null ? null : firstAt - started,
      // The first token ends the prefill, so the rate counts the ones after it.
      tokensPerSecond: tokens !== null && tokens > 1 && decodeSeconds > 0 ? (tokens - 1) / decodeSeconds : null,
      totalMs: ended - started,
    },
  };
}
