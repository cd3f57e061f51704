// GET /health: whether the node is up and which models it serves (no token: it tells nothing private).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { TesseraError } from '../../shared/errors.js';
import { sendJson } from './respond.js';
import type { RequestContext, Router } from './router.js';

export class HealthRouter implements Router {
  constructor(private readonly modelIds: () => readonly string[]) {}

  handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): void {
    if (context.url.pathname !== '/health') throw new TesseraError('NOT_FOUND', `no route for ${context.url.pathname}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new TesseraError('METHOD_NOT_ALLOWED', '/health takes GET');
    sendJson(response, 200, { status: 'ok', models: this.modelIds() });
  }
}
