// The node's one local HTTP server: the UI at `/`, the control API under `/api`, and whatever
// else is mounted (the OpenAI API under `/v1`). It owns what every route shares: the Host check
// against DNS rebinding, security headers, error bodies, and a clean stop.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { TesseraError } from '../../shared/errors.js';
import { asTesseraError } from './errors.js';
import { createHostCheck, type HostCheck } from './host-check.js';
import { HEADERS_TIMEOUT_MS, SHUTDOWN_GRACE_MS } from './limits.js';
import { sendError } from './respond.js';
import { pathIsUnder, refuseUpgrade, type RequestContext, type Router } from './router.js';

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

interface Mount {
  prefix: string;
  router: Router;
}

export class HttpServer {
  readonly #server: Server;
  readonly #hostCheck: HostCheck;
  /** Longest prefix first, so `/api` wins over `/`. */
  #mounts: Mount[] = [];
  #listening = false;

  constructor(private readonly options: HttpServerOptions) {
    this.#hostCheck = createHostCheck({ configuredHost: options.host });
    this.#server = createServer((request, response) => void this.#handleRequest(request, response));
    this.#server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.#server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#handleUpgrade(request, socket, head),
    );
    // Malformed requests: answer 400 and drop the connection instead of logging a stack.
    this.#server.on('clientError', (_error, socket) => refuseUpgrade(socket, 400, 'Bad Request'));
  }

  /** Adds a router under `prefix` (`'/'` catches everything no longer prefix claims). */
  mount(prefix: string, router: Router): void {
    if (prefix !== '/' && (!prefix.startsWith('/') || prefix.endsWith('/'))) {
      throw new TesseraError('INTERNAL', `mount prefix must look like "/name", got "${prefix}"`);
    }
    if (this.#mounts.some((mount) => mount.prefix === prefix)) {
      throw new TesseraError('INTERNAL', `a router is already mounted at ${prefix}`);
    }
    this.#mounts = [...this.#mounts, { prefix, router }].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Starts listening; PORT_IN_USE or CLI_BAD_ARGUMENT when the address cannot be bound. */
  async listen(): Promise<void> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        this.#server.off('listening', onListening);
        reject(listenError(error, host, port));
      };
      const onListening = () => {
        this.#server.off('error', onError);
        resolve();
      };
      this.#server.once('error', onError);
      this.#server.once('listening', onListening);
      this.#server.listen(port, host);
    });
    this.#listening = true;
  }

  /** The bound port (the real one when 0 was asked for). */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The Host check every request passes; routers reuse it for Origin checks. */
  get hostCheck(): HostCheck {
    return this.#hostCheck;
  }

  /** Base URL a local client should use, e.g. `http://127.0.0.1:7340`. */
  get url(): string {
    return `http://${urlHost(this.options.host)}:${this.port}`;
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    await Promise.allSettled(this.#mounts.map((mount) => mount.router.close?.()));
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const grace = setTimeout(() => this.#server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await closed;
    clearTimeout(grace);
  }

  async #handleRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('referrer-policy', 'no-referrer');
    try {
      if (!this.#hostCheck(request.headers.host)) {
        throw new TesseraError('FORBIDDEN_HOST', `requests for host "${request.headers.host ?? ''}" are not served here`);
      }
      const context = this.#context(request);
      const mount = this.#mountFor(context.url.pathname);
      if (!mount) throw new TesseraError('NOT_FOUND', `no route for ${context.url.pathname}`);
      await mount.router.handleRequest(request, response, context);
    } catch (error) {
      const failure = asTesseraError(error);
      if (failure.code === 'INTERNAL') console.error('tessera: request failed:', error);
      sendError(response, failure);
    }
  }

  #handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy()); // a client vanishing mid-handshake is not our error
    if (!this.#hostCheck(request.headers.host)) return refuseUpgrade(socket, 403, 'Forbidden');
    let context: RequestContext;
    try {
      context = this.#context(request);
    } catch {
      return refuseUpgrade(socket, 400, 'Bad Request');
    }
    const router = this.#mountFor(context.url.pathname)?.router;
    if (!router?.handleUpgrade) return refuseUpgrade(socket, 404, 'Not Found');
    router.handleUpgrade(request, socket, head, context);
  }

  #context(request: IncomingMessage): RequestContext {
    try {
      return { url: new URL(request.url ?? '/', this.url) };
    } catch {
      throw new TesseraError('REQUEST_INVALID', 'malformed request URL');
    }
  }

  #mountFor(pathname: string): Mount | undefined {
    return this.#mounts.find((mount) => pathIsUnder(pathname, mount.prefix));
  }
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): TesseraError {
  const address = `${urlHost(host)}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return new TesseraError('PORT_IN_USE', `port ${port} on ${host} is already in use (is another Tessera running? choose another with --port)`, { cause: error });
    case 'EACCES':
      return new TesseraError('CLI_BAD_ARGUMENT', `no permission to listen on ${address} (ports below 1024 need privileges; choose another with --port)`, { cause: error });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TesseraError('CLI_BAD_ARGUMENT', `cannot listen on host "${host}": no such address on this machine (see --host)`, { cause: error });
    default:
      return new TesseraError('INTERNAL', `cannot listen on ${address}: ${error.message}`, { cause: error });
  }
}

/** The host as it goes in a URL; a wildcard bind is reached locally through 127.0.0.1. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
