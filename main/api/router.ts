// What a part of the HTTP server looks like to the server: a handler for plain requests and,
// optionally, for WebSocket upgrades. Routers are mounted under a path prefix
// (`server.mount('/v1', openAiRouter)`); the server does the Host check and error handling.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export interface RequestContext {
  /** The parsed request URL (origin is the server's own). */
  url: URL;
}

export interface Router {
  /** Handles a request under the router's prefix; a thrown TesseraError becomes a JSON error. */
  handleRequest(request: IncomingMessage, response: ServerResponse, context: RequestContext): void | Promise<void>;
  /** Handles a WebSocket upgrade under the prefix; without it upgrades get 404. */
  handleUpgrade?(request: IncomingMessage, socket: Duplex, head: Buffer, context: RequestContext): void;
  /** Called when the server stops: close sockets, abort work. */
  close?(): void | Promise<void>;
}

/** True when `pathname` is `prefix` or lies below it (`/api` matches `/api` and `/api/node`, not `/apis`). */
export function pathIsUnder(pathname: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return pathname === prefix || pathname.startsWith(`${prefix}/`);
}

/** Writes a bare HTTP error on a socket we will not upgrade, then closes it. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
