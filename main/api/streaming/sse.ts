// Server-sent events in the two styles the dialects use: data-only (OpenAI chat and completions,
// ending in `data: [DONE]`) and named events (Anthropic Messages, OpenAI Responses).

import type { ServerResponse } from 'node:http';

/** 200 with the event-stream headers, sent at once (proxies are asked not to buffer). */
function openEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  response.flushHeaders();
}

export class SseWriter {
  constructor(private readonly response: ServerResponse) {}

  open(): void {
    openEventStream(this.response);
  }

  send(data: unknown): void {
    if (!this.response.writableEnded) this.response.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    if (this.response.writableEnded) return;
    this.response.write('data: [DONE]\n\n');
    this.response.end();
  }
}

/**
 * `event: <type>` then `data: <json>` per message. No `[DONE]` marker: each dialect ends
 * with its own final event.
 */
export class NamedEventWriter {
  constructor(private readonly response: ServerResponse) {}

  open(): void {
    openEventStream(this.response);
  }

  /** Writes one event named by its own `type` field. */
  send(data: { readonly type: string } & Record<string, unknown>): void {
    if (!this.response.writableEnded) this.response.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.response.writableEnded) this.response.end();
  }
}
