// Reads a JSON request body, refusing it before buffering once it passes the caller's limit.
import type { IncomingMessage } from 'node:http';
import { TesseraError } from '../../shared/errors.js';

export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new TesseraError('REQUEST_INVALID', 'request body must be JSON (content-type: application/json)');
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);

  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new TesseraError('REQUEST_INVALID', 'request body is not valid JSON');
  }
}

function tooLarge(maxBytes: number): TesseraError {
  return new TesseraError('REQUEST_TOO_LARGE', `request body is larger than ${maxBytes} bytes`);
}
