// /api/server and /api/requests: what the Server page shows. The OpenAI API's base URL and key
// status, and a log of the latest requests to it (kept in memory, newest last), which also goes
// out live as `request` events.

import {
  CONTROL_REQUESTS_PATH,
  CONTROL_SERVER_PATH,
  type ControlEvent,
  type RequestLogEntry,
  type ServerInfo,
} from '../../../shared/control.js';
import type { ControlRoutes } from '../control-router.js';
import { sendJson } from '../respond.js';

/** Requests the log keeps; older ones fall off (the live event stream has them all). */
export const REQUEST_LOG_CAPACITY = 200;

/** A finished request as the OpenAI router reports it (the log numbers it). */
export type RequestRecord = Omit<RequestLogEntry, 'id'>;

export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];
  #nextId = 1;

  constructor(
    private readonly publish: (event: ControlEvent) => void,
    private readonly capacity = REQUEST_LOG_CAPACITY,
  ) {}

  add(record: RequestRecord): RequestLogEntry {
    const entry: RequestLogEntry = { id: this.#nextId++, ...record };
    this.#entries.push(entry);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
    this.publish({ type: 'request', request: entry });
    return entry;
  }

  list(): readonly RequestLogEntry[] {
    return [...this.#entries];
  }
}

export interface RequestsRoutesBackend {
  log: RequestLog;
  serverInfo(): ServerInfo;
}

export function requestsRoutes(backend: RequestsRoutesBackend): ControlRoutes {
  return {
    [CONTROL_SERVER_PATH]: { GET: (_request, response) => sendJson(response, 200, backend.serverInfo()) },
    [CONTROL_REQUESTS_PATH]: { GET: (_request, response) => sendJson(response, 200, { requests: backend.log.list() }) },
  };
}
