// Server-sent events as OpenAI streams them: `data: <json>\n\n` per chunk, `data: [DONE]` last.

import type { ServerResponse } from 'node:http';

export class SseWriter {
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

  get opened(): boolean {
    return this.response.headersSent;
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
