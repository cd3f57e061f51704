// Server-sent events with an event name per message (`event: <type>` then `data: <json>`), as
// Anthropic's Messages API and OpenAI's Responses API stream them. No `[DONE]` marker: each
// dialect ends with its own final event.

import type { ServerResponse } from 'node:http';

export class NamedEventWriter {
  constructor(private readonly response: ServerResponse) {}

  open(): void {
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.response.flushHeaders();
  }

  /** Writes one event named by its own `type` field. */
  send(data: { readonly type: string } & Record<string, unknown>): void {
    if (!this.response.writableEnded) this.response.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (!this.response.writableEnded) this.response.end();
  }
}
