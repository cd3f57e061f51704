// The control API under /api: what the UI uses to see and steer this node. Every request needs the
// node token. Routes are one line each in ROUTES below.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CONTROL_EVENTS_PATH,
  CONTROL_NODE_PATH,
  nodeUpdateSchema,
  type ControlEvent,
  type NodeInfo,
} from '../../shared/control.js';
import { TesseraError } from '../../shared/errors.js';
import { bearerToken, tokenMatches } from './auth.js';
import { readJsonBody } from './body.js';
import { EventSocket } from './events-socket.js';
import type { HostCheck } from './host-check.js';
import { MAX_CONTROL_REQUEST_BODY_BYTES } from './limits.js';
import { sendJson } from './respond.js';
import { refuseUpgrade, type RequestContext, type Router } from './router.js';

/** What the control API needs from the node (main/node implements it). */
export interface ControlBackend {
  nodeInfo(): NodeInfo;
  renameNode(name: string): Promise<NodeInfo>;
  subscribe(listener: (event: ControlEvent) => void): () => void;
}

type Handler = (backend: ControlBackend, request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

const ROUTES: Record<string, Partial<Record<'GET' | 'PATCH', Handler>>> = {
  [CONTROL_NODE_PATH]: {
    GET: (backend, _request, response) => sendJson(response, 200, backend.nodeInfo()),
    PATCH: async (backend, request, response) => {
      const update = nodeUpdateSchema.safeParse(await readJsonBody(request, MAX_CONTROL_REQUEST_BODY_BYTES));
      if (!update.success) throw new TesseraError('REQUEST_INVALID', `invalid node update: ${update.error.issues[0]?.message ?? 'bad body'}`);
      sendJson(response, 200, await backend.renameNode(update.data.name));
    },
  },
};

export class ControlRouter implements Router {
  readonly #events: EventSocket;

  constructor(
    private readonly backend: ControlBackend,
    private readonly options: { token: string; hostCheck: HostCheck },
  ) {
    this.#events = new EventSocket({
      token: options.token,
      hostCheck: options.hostCheck,
      hello: () => ({ type: 'hello', node: backend.nodeInfo() }),
      subscribe: (listener) => backend.subscribe(listener),
    });
  }

  async handleRequest(request: IncomingMessage, response: ServerResponse, { url }: RequestContext): Promise<void> {
    if (!tokenMatches(this.options.token, bearerToken(request))) {
      response.setHeader('www-authenticate', 'Bearer realm="tessera"');
      throw new TesseraError('UNAUTHORIZED', 'missing or wrong node token (open the URL that `tessera serve` printed)');
    }
    const methods = ROUTES[url.pathname];
    if (!methods) throw new TesseraError('NOT_FOUND', `no control API route ${url.pathname}`);
    const handler = methods[request.method as 'GET' | 'PATCH'];
    if (!handler) {
      response.setHeader('allow', Object.keys(methods).join(', '));
      throw new TesseraError('METHOD_NOT_ALLOWED', `${request.method ?? ''} is not allowed on ${url.pathname}`);
    }
    await handler(this.backend, request, response);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, context: RequestContext): void {
    if (context.url.pathname !== CONTROL_EVENTS_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    this.#events.handleUpgrade(request, socket, head, context);
  }

  close(): void {
    this.#events.close();
  }
}
