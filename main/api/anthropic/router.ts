// Anthropic's Messages API, mounted at /v1/messages beside the OpenAI API under /v1 (the
// server picks the longest mounted prefix). Key in `x-api-key` (or `Authorization: Bearer`),
// errors in Anthropic's shape, generation cancelled when the client goes away.

import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { ChatService } from '../chat/chat-service.js';
import { asTesseraError } from '../errors.js';
import type { RequestContext, Router } from '../router.js';
import { MAX_OPENAI_REQUEST_BODY_BYTES, QUEUE_FULL_RETRY_AFTER_SECONDS } from '../openai/router.js';
import { anthropicErrorBody, anthropicStatus } from './errors.js';
import { handleCountTokens, handleMessages } from './messages.js';

export const ANTHROPIC_MESSAGES_PATH = '/v1/messages';

export interface AnthropicRouterOptions {
  /** When set, requests need `x-api-key: <apiKey>` (or `Authorization: Bearer <apiKey>`). */
  readonly apiKey?: string;
}

type Handler = (service: ChatService, json: unknown, request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => Promise<void>;

const POST_ROUTES: Readonly<Record<string, Handler>> = {
  [ANTHROPIC_MESSAGES_PATH]: handleMessages,
  [`${ANTHROPIC_MESSAGES_PATH}/count_tokens`]: handleCountTokens,
};

export class AnthropicRouter implements Router {
  private readonly inFlight = new Set<AbortController>();

  constructor(
    private readonly service: ChatService,
    private readonly options: AnthropicRouterOptions = {},
  ) {}

  async handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): Promise<void> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
      this.inFlight.delete(controller);
    });
    try {
      this.checkApiKey(request);
      const path = context.url.pathname.replace(/\/+$/, '');
      const handler = POST_ROUTES[path];
      if (handler === undefined) throw new TesseraError('NOT_FOUND', `No route for ${request.method} ${path}`);
      if (request.method !== 'POST') throw new TesseraError('METHOD_NOT_ALLOWED', `${path} takes POST`);
      const json = await readJsonBody(request, MAX_OPENAI_REQUEST_BODY_BYTES);
      await handler(this.service, json, request, response, controller.signal);
    } catch (error) {
      this.sendError(response, asTesseraError(error));
    }
  }

  close(): void {
    for (const controller of this.inFlight) controller.abort();
  }

  private checkApiKey(request: IncomingMessage): void {
    const expected = this.options.apiKey;
    if (expected === undefined || expected === '') return;
    const header = request.headers['x-api-key'];
    const given = (typeof header === 'string' ? header : /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '').trim();
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new TesseraError('UNAUTHORIZED', 'invalid x-api-key');
  }

  private sendError(response: ServerResponse, error: TesseraError): void {
    if (error.code === 'INTERNAL') console.error('tessera: Anthropic API request failed:', error.cause ?? error);
    if (response.headersSent) {
      response.end();
      return;
    }
    const text = JSON.stringify(anthropicErrorBody(error));
    const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) };
    if (error.code === 'QUEUE_FULL') headers['retry-after'] = QUEUE_FULL_RETRY_AFTER_SECONDS;
    response.writeHead(anthropicStatus(error), headers);
    response.end(text);
  }
}
