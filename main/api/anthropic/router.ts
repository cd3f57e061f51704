// Anthropic's Messages API, mounted at /v1/messages beside the OpenAI API under /v1 (the
// server picks the longest mounted prefix). Key in `x-api-key` (or `Authorization: Bearer`),
// errors in Anthropic's shape, generation cancelled when the client goes away.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { ChatService } from '../chat/chat-service.js';
import { asTesseraError } from '../errors.js';
import type { RequestContext, Router } from '../router.js';
import { MAX_OPENAI_REQUEST_BODY_BYTES } from '../openai/router.js';
import { apiKeyMatches, bearerOf, InFlightRequests, sendDialectError } from '../dialect-support.js';
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
  private readonly inFlight = new InFlightRequests();

  constructor(
    private readonly service: ChatService,
    private readonly options: AnthropicRouterOptions = {},
  ) {}

  async handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): Promise<void> {
    const signal = this.inFlight.track(response);
    try {
      const header = request.headers['x-api-key'];
      if (!apiKeyMatches(this.options.apiKey, typeof header === 'string' ? header.trim() : bearerOf(request))) {
        throw new TesseraError('UNAUTHORIZED', 'invalid x-api-key');
      }
      const path = context.url.pathname.replace(/\/+$/, '');
      const handler = POST_ROUTES[path];
      if (handler === undefined) throw new TesseraError('NOT_FOUND', `No route for ${request.method} ${path}`);
      if (request.method !== 'POST') throw new TesseraError('METHOD_NOT_ALLOWED', `${path} takes POST`);
      const json = await readJsonBody(request, MAX_OPENAI_REQUEST_BODY_BYTES);
      await handler(this.service, json, request, response, signal);
    } catch (error) {
      const failure = asTesseraError(error);
      sendDialectError(response, failure, anthropicStatus(failure), anthropicErrorBody(failure), 'Anthropic API');
    }
  }

  close(): void {
    this.inFlight.abortAll();
  }
}
