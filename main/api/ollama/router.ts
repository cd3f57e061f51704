// Ollama's API at its own paths under /api (chat, generate, tags, show, ps, version, embed).
// The control API also lives under /api, so the node mounts this router at each of these exact
// paths: the server picks the longest mounted prefix, so they reach Ollama's router (no node
// token; the OpenAI API key when one is set) and every other /api path the control API's.

import { apiKeyMatches, bearerOf, InFlightRequests, sendDialectError } from '../dialect-support.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { ChatService } from '../chat/chat-service.js';
import { asTesseraError } from '../errors.js';
import { MAX_OPENAI_REQUEST_BODY_BYTES } from '../openai/router.js';
import type { RequestContext, Router } from '../router.js';
import { handleChat, handleGenerate } from './chat.js';
import { ollamaErrorBody, ollamaStatus } from './errors.js';
import { handleEmbed, handlePs, handleShow, handleTags, handleVersion } from './models.js';

type PostHandler = (service: ChatService, json: unknown, request: IncomingMessage, response: ServerResponse, signal: AbortSignal) => Promise<void>;

const POST_ROUTES: Readonly<Record<string, PostHandler>> = {
  '/api/chat': handleChat,
  '/api/generate': handleGenerate,
  '/api/show': handleShow,
  '/api/embed': handleEmbed,
};

const GET_ROUTES: Readonly<Record<string, (router: OllamaRouter, response: ServerResponse) => Promise<void> | void>> = {
  '/api/tags': (router, response) => handleTags(router.service, response),
  '/api/ps': (router, response) => handlePs(router.service, response),
  '/api/version': (router, response) => handleVersion(router.options.version, response),
};

/** The exact paths to mount this router at, ahead of the control API's /api. */
export const OLLAMA_PATHS: readonly string[] = [...Object.keys(POST_ROUTES), ...Object.keys(GET_ROUTES)];

export interface OllamaRouterOptions {
  /** Reported by /api/version. */
  readonly version: string;
  /** When set, requests need `Authorization: Bearer <apiKey>` (as the OpenAI API). */
  readonly apiKey?: string;
}

export class OllamaRouter implements Router {
  private readonly inFlight = new InFlightRequests();

  constructor(
    readonly service: ChatService,
    readonly options: OllamaRouterOptions,
  ) {}

  async handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): Promise<void> {
    const signal = this.inFlight.track(response);
    try {
      if (!apiKeyMatches(this.options.apiKey, bearerOf(request))) {
        throw new TesseraError('UNAUTHORIZED', 'unauthorized: set "Authorization: Bearer <key>"');
      }
      const path = context.url.pathname.replace(/\/+$/, '');
      const post = POST_ROUTES[path];
      const get = GET_ROUTES[path];
      if (post !== undefined && request.method === 'POST') {
        const json = await readJsonBody(request, MAX_OPENAI_REQUEST_BODY_BYTES);
        await post(this.service, json, request, response, signal);
      } else if (get !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
        await get(this, response);
      } else if (post !== undefined || get !== undefined) {
        throw new TesseraError('METHOD_NOT_ALLOWED', `${path} takes ${post !== undefined ? 'POST' : 'GET'}`);
      } else {
        throw new TesseraError('NOT_FOUND', `no route for ${request.method} ${path}`);
      }
    } catch (error) {
      const failure = asTesseraError(error);
      sendDialectError(response, failure, ollamaStatus(failure), ollamaErrorBody(failure), 'Ollama API');
    }
  }

  close(): void {
    this.inFlight.abortAll();
  }
}
