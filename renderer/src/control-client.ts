// The UI's only way to the node: the control API over HTTP, and its event socket for live updates
// (reconnecting with a growing delay when the node goes away and comes back).
import {
  CONTROL_EVENTS_PATH,
  CONTROL_MODELS_PATH,
  CONTROL_NODE_PATH,
  CONTROL_REQUESTS_PATH,
  CONTROL_SERVER_PATH,
  TOKEN_AUTH_SCHEME,
  TOKEN_QUERY_PARAMETER,
  decodeControlEvent,
  localModelSchema,
  modelsStateSchema,
  nodeInfoSchema,
  requestLogEntrySchema,
  serverInfoSchema,
  type ApiErrorBody,
  type ControlEvent,
  type LocalModel,
  type ModelsState,
  type NodeInfo,
  type RequestLogEntry,
  type ServerInfo,
} from '../../shared/control.js';

const RECONNECT_FIRST_DELAY_MS = 500;
const RECONNECT_MAX_DELAY_MS = 10_000;

export type EventsStatus = 'connecting' | 'live' | 'reconnecting';

export class ControlApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class ControlClient {
  constructor(private readonly token: string) {}

  async getNode(): Promise<NodeInfo> {
    return nodeInfoSchema.parse(await this.#request('GET', CONTROL_NODE_PATH));
  }

  async renameNode(name: string): Promise<NodeInfo> {
    return nodeInfoSchema.parse(await this.#request('PATCH', CONTROL_NODE_PATH, { name }));
  }

  async getModels(): Promise<ModelsState> {
    return modelsStateSchema.parse(await this.#request('GET', CONTROL_MODELS_PATH));
  }

  async loadModel(path: string): Promise<void> {
    await this.#request('POST', `${CONTROL_MODELS_PATH}/load`, { path });
  }

  async unloadModel(id: string): Promise<void> {
    await this.#request('POST', `${CONTROL_MODELS_PATH}/unload`, { id });
  }

  async importModel(path: string): Promise<LocalModel> {
    return localModelSchema.parse(await this.#request('POST', `${CONTROL_MODELS_PATH}/import`, { path }));
  }

  async deleteModel(file: string): Promise<void> {
    await this.#request('DELETE', `${CONTROL_MODELS_PATH}/${encodeURIComponent(file)}`);
  }

  async getServer(): Promise<ServerInfo> {
    return serverInfoSchema.parse(await this.#request('GET', CONTROL_SERVER_PATH));
  }

  async getRequests(): Promise<RequestLogEntry[]> {
    const body = (await this.#request('GET', CONTROL_REQUESTS_PATH)) as { requests: unknown[] };
    return body.requests.map((entry) => requestLogEntrySchema.parse(entry));
  }

  /** Any other control route (features whose shapes the page checks itself). */
  async call(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', path: string, body?: unknown): Promise<unknown> {
    return this.#request(method, path, body);
  }

  /** Streams events until the returned function is called. */
  subscribe(onEvent: (event: ControlEvent) => void, onStatus: (status: EventsStatus) => void): () => void {
    let socket: WebSocket | undefined;
    let retryTimer: number | undefined;
    let delay = RECONNECT_FIRST_DELAY_MS;
    let closed = false;

    const connect = () => {
      const url = new URL(CONTROL_EVENTS_PATH, window.location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      url.searchParams.set(TOKEN_QUERY_PARAMETER, this.token);
      socket = new WebSocket(url);
      socket.onopen = () => {
        delay = RECONNECT_FIRST_DELAY_MS;
        onStatus('live');
      };
      socket.onmessage = (message) => {
        try {
          onEvent(decodeControlEvent(String(message.data)));
        } catch (error) {
          console.warn('tessera: ignoring a malformed event', error); // a newer node may send types we do not know
        }
      };
      socket.onclose = () => {
        if (closed) return;
        onStatus('reconnecting');
        retryTimer = window.setTimeout(connect, delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS);
      };
    };

    onStatus('connecting');
    connect();
    return () => {
      closed = true;
      window.clearTimeout(retryTimer);
      socket?.close();
    };
  }

  async #request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(path, {
      method,
      headers: {
        authorization: `${TOKEN_AUTH_SCHEME} ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const payload: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (payload as ApiErrorBody | undefined)?.error;
      throw new ControlApiError(response.status, error?.code ?? 'INTERNAL', error?.message ?? `HTTP ${response.status}`);
    }
    return payload;
  }
}
