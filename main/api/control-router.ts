// The control API under /api: what the UI uses to see and steer this node. Every request needs the
// node token. Each feature brings a table of routes (see main/api/control/); the node passes them in.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  CONTROL_EVENTS_PATH,
  type ControlEvent,
} from '../../shared/control.js';
import { TesseraError } from '../../shared/errors.js';
import { bearerToken, tokenMatches } from './auth.js';
import { EventSocket } from './events-socket.js';
import type { HostCheck } from './host-check.js';
import { refuseUpgrade, type RequestContext, type Router } from './router.js';

/** One route's handler per method. Features (node, cluster, models, …) each bring a table. */
export type ControlMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type ControlHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void> | void;
/**
 * Paths to handlers. A key ending in `/*` also matches everything below it
 * (`/api/models/*` takes `/api/models/qwen3`); exact keys win.
 */
export type ControlRoutes = Readonly<Record<string, Partial<Record<ControlMethod, ControlHandler>>>>;

export interface ControlRouterOptions {
  token: string;
  hostCheck: HostCheck;
  /** The first event a new events socket gets. */
  hello: () => ControlEvent;
  subscribe: (listener: (event: ControlEvent) => void) => () => void;
}

export class ControlRouter implements Router {
  readonly #events: EventSocket;

  readonly #routes: ControlRoutes;

  constructor(
    routes: readonly ControlRoutes[],
    private readonly options: ControlRouterOptions,
  ) {
    this.#routes = Object.assign({}, ...routes) as ControlRoutes;
    this.#events = new EventSocket({
      token: options.token,
      hostCheck: options.hostCheck,
      hello: options.hello,
      subscribe: options.subscribe,
    });
  }

  async handleRequest(request: IncomingMessage, response: ServerResponse, { url }: RequestContext): Promise<void> {
    if (!tokenMatches(this.options.token, bearerToken(request))) {
      response.setHeader('www-authenticate', 'Bearer realm="tessera"');
      throw new TesseraError('UNAUTHORIZED', 'missing or wrong node token (open the URL that `tessera serve` printed)');
    }
    const methods = this.#routesFor(url.pathname);
    if (!methods) throw new TesseraError('NOT_FOUND', `no control API route ${url.pathname}`);
    const handler = methods[request.method as ControlMethod];
    if (!handler) {
      response.setHeader('allow', Object.keys(methods).join(', '));
      throw new TesseraError('METHOD_NOT_ALLOWED', `${request.method ?? ''} is not allowed on ${url.pathname}`);
    }
    await handler(request, response, url);
  }

  #routesFor(pathname: string): ControlRoutes[string] | undefined {
    const exact = this.#routes[pathname];
    if (exact) return exact;
    let best: string | undefined;
    for (const key of Object.keys(this.#routes)) {
      if (!key.endsWith('/*')) continue;
      const prefix = key.slice(0, -1);
      if (pathname.startsWith(prefix) && pathname.length > prefix.length && (best === undefined || key.length > best.length)) best = key;
    }
    return best === undefined ? undefined : this.#routes[best];
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, context: RequestContext): void {
    if (context.url.pathname !== CONTROL_EVENTS_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    this.#events.handleUpgrade(request, socket, head, context);
  }

  close(): void {
    this.#events.close();
  }
}
