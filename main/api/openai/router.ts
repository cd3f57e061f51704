// The OpenAI-compatible API under /v1: a table of routes, an optional API key, optional CORS,
// and errors in OpenAI's shape. Every generation is cancelled when its client goes away.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import { asTesseraError } from '../errors.js';
import type { RequestContext, Router } from '../router.js';
import type { ChatService } from '../chat/chat-service.js';
import type { ServedModel } from '../chat/served-model.js';
import type { RequestLogEntry } from '../../../shared/control.js';
import { handleChatCompletions } from './chat-completions.js';
import { handleCompletions } from './completions.js';
import { handleEmbeddings } from './embeddings.js';
import { handleResponses } from './responses.js';
import { openAIErrorBody, openAIStatus } from './errors.js';
import { apiKeyMatches, bearerOf, InFlightRequests, sendDialectError } from '../dialect-support.js';

/** Largest request body the OpenAI API reads (bytes): long conversations with tool results fit. */
export const MAX_OPENAI_REQUEST_BODY_BYTES = 16 * 1024 * 1024;

export interface OpenAIRouterOptions {
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
  /** Origins allowed by CORS ('*' for any); none by default. */
  readonly corsOrigins?: readonly string[];
  /** Told about every finished request (the control API's request log). */
  readonly onRequest?: (record: Omit<RequestLogEntry, 'id'>) => void;
}

/** What a request's handler revealed about it, for the request log. */
interface RequestFacts {
  model: string | null;
  stream: boolean;
  promptTokens: number | null;
  completionTokens: number | null;
}

type Handler = (
  service: ChatService,
  json: unknown,
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
) => Promise<void>;

const POST_ROUTES: Readonly<Record<string, Handler>> = {
  '/v1/chat/completions': handleChatCompletions,
  '/v1/completions': handleCompletions,
  '/v1/responses': handleResponses,
  '/v1/embeddings': handleEmbeddings,
};

export class OpenAIRouter implements Router {
  private readonly inFlight = new InFlightRequests();

  constructor(
    private readonly service: ChatService,
    private readonly options: OpenAIRouterOptions = {},
  ) {}

  async handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): Promise<void> {
    const signal = this.inFlight.track(response);
    const startedAt = Date.now();
    const facts: RequestFacts = { model: null, stream: false, promptTokens: null, completionTokens: null };
    response.once('close', () => {
      if (request.method !== 'OPTIONS') this.options.onRequest?.({ at: startedAt, method: request.method ?? '', path: context.url.pathname, ...facts, durationMs: Date.now() - startedAt, status: response.statusCode });
    });
    try {
      this.applyCors(request, response);
      if (request.method === 'OPTIONS') {
        response.writeHead(204).end();
        return;
      }
      if (!apiKeyMatches(this.options.apiKey, bearerOf(request))) {
        throw new TesseraError('UNAUTHORIZED', 'Incorrect API key provided. Set it as "Authorization: Bearer <key>".');
      }
      await this.route(request, response, context, signal, facts);
    } catch (error) {
      const failure = asTesseraError(error);
      sendDialectError(response, failure, openAIStatus(failure), openAIErrorBody(failure), 'OpenAI API');
    }
  }

  close(): void {
    this.inFlight.abortAll();
  }

  private async route(request: IncomingMessage, response: ServerResponse, context: RequestContext, signal: AbortSignal, facts: RequestFacts): Promise<void> {
    const path = context.url.pathname.replace(/\/+$/, '');
    const handler = POST_ROUTES[path];
    if (handler !== undefined) {
      if (request.method !== 'POST') throw new TesseraError('METHOD_NOT_ALLOWED', `${path} takes POST`);
      const json = await readJsonBody(request, MAX_OPENAI_REQUEST_BODY_BYTES);
      const body = (typeof json === 'object' && json !== null ? json : {}) as { model?: unknown; stream?: unknown };
      facts.model = typeof body.model === 'string' ? body.model : null;
      facts.stream = body.stream === true;
      await handler(this.options.onRequest === undefined ? this.service : countingUsage(this.service, facts), json, request, response, signal);
      return;
    }
    if (request.method !== 'GET') throw new TesseraError('NOT_FOUND', `No route for ${request.method} ${path}`);
    if (path === '/v1/models') return sendJson(response, { object: 'list', data: this.service.models.list().map(modelObject) });
    const modelMatch = /^\/v1\/models\/(.+)$/.exec(path);
    if (modelMatch !== null) {
      const model = this.service.model(decodeURIComponent(modelMatch[1]!));
      return sendJson(response, modelObject(model));
    }
    throw new TesseraError('NOT_FOUND', `No route for GET ${path}`);
  }

  private applyCors(request: IncomingMessage, response: ServerResponse): void {
    const allowed = this.options.corsOrigins ?? [];
    const origin = request.headers.origin;
    if (origin === undefined || allowed.length === 0) return;
    if (!allowed.includes('*') && !allowed.includes(origin)) return;
    response.setHeader('access-control-allow-origin', allowed.includes('*') ? '*' : origin);
    response.setHeader('access-control-allow-headers', 'authorization, content-type');
    response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    response.setHeader('vary', 'origin');
  }
}

/** The same service, noting each generation's token counts in `facts` as its last event passes. */
function countingUsage(service: ChatService, facts: RequestFacts): ChatService {
  async function* noting<E extends { type: string }>(events: AsyncGenerator<E>): AsyncGenerator<E> {
    for await (const event of events) {
      if (event.type === 'done' && 'usage' in event) {
        const usage = event.usage as { promptTokens: number; completionTokens: number };
        facts.promptTokens = usage.promptTokens;
        facts.completionTokens = usage.completionTokens;
      }
      yield event;
    }
  }
  const counted = Object.create(service) as ChatService;
  counted.chat = (request, signal) => noting(service.chat(request, signal));
  counted.complete = (request, signal) => noting(service.complete(request, signal));
  return counted;
}

function modelObject(model: ServedModel): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id: model.id, object: 'model', created: model.created, owned_by: 'tessera' };
}

function sendJson(response: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
