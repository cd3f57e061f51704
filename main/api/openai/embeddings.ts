// POST /v1/embeddings: OpenAI's embeddings endpoint over the shared embedding path. The openai
// SDK asks for base64 by default (little-endian float32), which it decodes itself.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ChatService } from '../chat/chat-service.js';
import { embedBatch } from './embeddings-service.js';
import { validBody } from '../request-validation.js';

const tokens = z.array(z.number().int()).min(1);
const body = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), tokens, z.array(tokens).min(1)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

export async function handleEmbeddings(service: ChatService, json: unknown, _request: IncomingMessage, response: ServerResponse): Promise<void> {
  const b = validBody(body.safeParse(json), 'Invalid request: ');
  const inputs: (string | number[])[] =
    typeof b.input === 'string' ? [b.input] : b.input.length > 0 && typeof b.input[0] === 'number' ? [b.input as number[]] : (b.input as (string | number[])[]);
  const batch = await embedBatch(service, b.model, inputs, b.dimensions);
  const base64 = b.encoding_format === 'base64';
  const result = {
    object: 'list',
    data: batch.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: base64 ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64') : Array.from(vector),
    })),
    model: b.model,
    usage: { prompt_tokens: batch.promptTokens, total_tokens: batch.promptTokens },
  };
  const text = JSON.stringify(result);
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
