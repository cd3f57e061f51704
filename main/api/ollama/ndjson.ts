// Newline-delimited JSON, as Ollama streams: one object per line, the last with `done: true`.

import type { ServerResponse } from 'node:http';

export class NdjsonWriter {
  constructor(private readonly response: ServerResponse) {}

  open(): void {
    this.response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    this.response.flushHeaders();
  }

  send(line: unknown): void {
    if (!this.response.writableEnded) this.response.write(`${JSON.stringify(line)}\n`);
  }

  end(): void {
    if (!this.response.writableEnded) this.response.end();
  }
}

export function sendOllamaJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
