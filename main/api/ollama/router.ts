// Ollama's API at its own paths under /api (chat, generate, tags, show, ps, version, embed).
// The control API also lives under /api, so the node mounts this router at each of these exact
// paths: the server picks the longest mounted prefix, so they reach Ollama's router (no node
// token; the OpenAI API key when one is set) and every other /api path the control API's.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
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
  private readonly inFlight = new Set<AbortController>();

  constructor(
    readonly service: ChatService,
    readonly options: OllamaRouterOptions,
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
      const post = POST_ROUTES[path];
      const get = GET_ROUTES[path];
      if (post !== undefined && request.method === 'POST') {
        const json = await readJsonBody(request, MAX_OPENAI_REQUEST_BODY_BYTES);
        await post(this.service, json, request, response, controller.signal);
      } else if (get !== undefined && (request.method === 'GET' || request.method === 'HEAD')) {
        await get(this, response);
      } else if (post !== undefined || get !== undefined) {
        throw new TesseraError('METHOD_NOT_ALLOWED', `${path} takes ${post !== undefined ? 'POST' : 'GET'}`);
      } else {
        throw new TesseraError('NOT_FOUND', `no route for ${request.method} ${path}`);
      }
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
    const given = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim() ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new TesseraError('UNAUTHORIZED', 'unauthorized: set "Authorization: Bearer <key>"');
  }

  private sendError(response: ServerResponse, error: TesseraError): void {
    if (error.code === 'INTERNAL') console.error('tessera: Ollama API request failed:', error.cause ?? error);
    if (response.headersSent) {
      response.end();
      return;
    }
    const text = JSON.stringify(ollamaErrorBody(error));
    response.writeHead(ollamaStatus(error), { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  }
}
