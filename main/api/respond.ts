// Writing JSON responses and JSON errors.
import type { ServerResponse } from 'node:http';
import type { TesseraError } from '../../shared/errors.js';
import { errorBody, httpMappingFor } from './errors.js';

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

export function sendError(response: ServerResponse, error: TesseraError, headers: Record<string, string> = {}): void {
  if (response.headersSent) {
    response.destroy(error); // too late for a clean error; cut the response so the client notices
    return;
  }
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  sendJson(response, httpMappingFor(error.code).status, errorBody(error));
}
