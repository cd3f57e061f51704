// The control API's live event stream: a WebSocket at /api/events. Each UI gets a `hello` with the
// node as it is, then every event the node publishes. The token rides in `?token=` because
// browsers cannot set headers on a WebSocket; the Origin, when a browser sends one, must name this
// machine too.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { ControlEvent } from '../../shared/control.js';
import { bearerToken, queryToken, tokenMatches } from './auth.js';
import type { HostCheck } from './host-check.js';
import { MAX_EVENT_SOCKET_BUFFERED_BYTES, MAX_EVENT_SOCKET_MESSAGE_BYTES } from './limits.js';
import { refuseUpgrade, type RequestContext } from './router.js';

/** Close code sent to every UI when the node stops ("going away"). */
const CLOSE_GOING_AWAY = 1001;
/** Close code for a UI that could not keep up with events. */
const CLOSE_TOO_SLOW = 1013;

export interface EventSocketOptions {
  token: string;
  hostCheck: HostCheck;
  /** The first event each new connection gets. */
  hello: () => ControlEvent;
  /** Registers a listener for the node's events; returns the unsubscribe. */
  subscribe: (listener: (event: ControlEvent) => void) => () => void;
}

export class EventSocket {
  readonly #server = new WebSocketServer({ noServer: true, maxPayload: MAX_EVENT_SOCKET_MESSAGE_BYTES });

  constructor(private readonly options: EventSocketOptions) {}

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, { url }: RequestContext): void {
    const token = queryToken(url) ?? bearerToken(request);
    if (!tokenMatches(this.options.token, token)) return refuseUpgrade(socket, 401, 'Unauthorized');
    if (!this.#originAllowed(request.headers.origin)) return refuseUpgrade(socket, 403, 'Forbidden');
    this.#server.handleUpgrade(request, socket, head, (client) => this.#serve(client));
  }

  /** Closes every connection; the node is stopping. */
  close(): void {
    for (const client of this.#server.clients) client.close(CLOSE_GOING_AWAY, 'node stopping');
    this.#server.close();
  }

  get connectionCount(): number {
    return this.#server.clients.size;
  }

  #serve(client: WebSocket): void {
    const send = (event: ControlEvent) => {
      if (client.readyState !== WebSocket.OPEN) return;
      if (client.bufferedAmount > MAX_EVENT_SOCKET_BUFFERED_BYTES) return client.close(CLOSE_TOO_SLOW, 'too slow');
      client.send(JSON.stringify(event));
    };
    const unsubscribe = this.options.subscribe(send);
    client.on('close', unsubscribe);
    client.on('error', () => client.terminate());
    send(this.options.hello());
  }

  #originAllowed(origin: string | undefined): boolean {
    if (origin === undefined) return true; // not a browser (CLI tools, tests); the token still applies
    try {
      return this.options.hostCheck(new URL(origin).host);
    } catch {
      return false;
    }
  }
}
