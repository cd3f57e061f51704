// A small HTTP server that answers like the Hugging Face hub for the endpoints `@huggingface/hub`
// calls when listing and downloading (read from its source): the tree listing
// `GET /api/models/<repo>/tree/main?recursive=…`, and `GET|HEAD /<repo>/resolve/main/<file>`, which
// answers with ETag, X-Linked-Size and X-Linked-Etag and redirects to a content URL that serves
// Range requests (206 + Content-Range), as the hub's CDN does. Used by the model store's tests with
// HF_ENDPOINT pointed at it; it records every request so tests can see Range headers and whether
// the hub was consulted at all.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestHubFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface TestHubRepo {
  readonly files: readonly TestHubFile[];
  /** Resolve answers 401 unless the request carries `Authorization: Bearer <token>`. */
  readonly gatedToken?: string;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly range: string | undefined;
  readonly authorization: string | undefined;
}

export interface TestHubOptions {
  /** Content bytes per second per response (0: unthrottled). */
  bytesPerSecond?: number;
  /** Serves this byte offset (of every file) with its bits flipped. */
  corruptOffset?: number;
  /** How many content responses get the corrupt byte (default: all). */
  corruptResponses?: number;
  /** Cut the next content response's connection after this many bytes, once. */
  dropAfterBytes?: number;
}

const CHUNK_BYTES = 64 * 1024;

export class TestHub {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly byHash = new Map<string, Uint8Array>();
  private readonly repos = new Map<string, TestHubRepo & { hashes: Map<string, string> }>();
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(readonly options: TestHubOptions = {}) {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500).end(String(error));
        else response.destroy();
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  addRepo(name: string, repo: TestHubRepo): void {
    const hashes = new Map<string, string>();
    for (const file of repo.files) {
      const sha = createHash('sha256').update(file.bytes).digest('hex');
      hashes.set(file.path, sha);
      this.byHash.set(sha, file.bytes);
    }
    this.repos.set(name, { ...repo, hashes });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests for file content (the resolve and content URLs), not listings. */
  contentRequests(): RecordedRequest[] {
    return this.requests.filter((request) => request.path.includes('/resolve/') || request.path.startsWith('/content/'));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://hub');
    const path = decodeURIComponent(url.pathname);
    this.requests.push({
      method: request.method ?? 'GET',
      path,
      range: request.headers.range,
      authorization: request.headers.authorization,
    });
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main(?:\/(.*))?$/.exec(path);
    if (tree) return this.tree(tree[1]!, url, response);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(path);
    if (resolve) return this.resolve(resolve[1]!, resolve[2]!, request, response);
    const content = /^\/content\/([0-9a-f]{64})$/.exec(path);
    if (content) return this.content(content[1]!, request, response);
    notFound(response, 'RepoNotFound', 'Not Found');
  }

  private tree(repoName: string, url: URL, response: ServerResponse): void {
    const repo = this.repos.get(repoName);
    if (!repo) return notFound(response, 'RepoNotFound', 'Repository not found');
    const recursive = url.searchParams.get('recursive') === 'true';
    const entries = repo.files
      .filter((file) => recursive || !file.path.includes('/'))
      .map((file) => {
        const sha = repo.hashes.get(file.path)!;
        return {
          type: 'file',
          oid: createHash('sha1').update(sha).digest('hex'),
          size: file.bytes.byteLength,
          path: file.path,
          lfs: { oid: sha, size: file.bytes.byteLength, pointerSize: 134 },
        };
      });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entries));
  }

  private resolve(repoName: string, filePath: string, request: IncomingMessage, response: ServerResponse): void {
    const repo = this.repos.get(repoName);
    if (!repo) return notFound(response, 'RepoNotFound', 'Repository not found');
    if (repo.gatedToken !== undefined && request.headers.authorization !== `Bearer ${repo.gatedToken}`) {
      response
        .writeHead(401, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo' })
        .end(JSON.stringify({ error: `Access to model ${repoName} is restricted. You must have access to it and be authenticated.` }));
      return;
    }
    const file = repo.files.find((entry) => entry.path === filePath);
    if (!file) return notFound(response, 'EntryNotFound', 'Entry not found');
    const sha = repo.hashes.get(filePath)!;
    response
      .writeHead(302, {
        location: `/content/${sha}`,
        etag: `"${createHash('sha1').update(sha).digest('hex')}"`,
        'x-linked-etag': `"${sha}"`,
        'x-linked-size': String(file.bytes.byteLength),
        'x-repo-commit': '0'.repeat(40),
      })
      .end();
  }

  private async content(sha: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const stored = this.byHash.get(sha);
    if (!stored) return notFound(response, 'EntryNotFound', 'Entry not found');
    let bytes = stored;
    const { corruptOffset, corruptResponses } = this.options;
    if (corruptOffset !== undefined && corruptOffset < stored.byteLength && (corruptResponses === undefined || corruptResponses > 0)) {
      if (corruptResponses !== undefined) this.options.corruptResponses = corruptResponses - 1;
      bytes = Uint8Array.from(stored);
      bytes[corruptOffset] = bytes[corruptOffset]! ^ 0xff;
    }
    const range = parseRange(request.headers.range, bytes.byteLength);
    const headers = { etag: `"${sha}"`, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (range === 'invalid') {
      response.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.byteLength}` }).end();
      return;
    }
    const [start, end] = range ?? [0, bytes.byteLength];
    response.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(end - start),
      ...(range ? { 'content-range': `bytes ${start}-${end - 1}/${bytes.byteLength}` } : {}),
    });
    if (request.method === 'HEAD') return void response.end();
    await this.send(response, bytes.subarray(start, end));
  }

  private async send(response: ServerResponse, body: Uint8Array): Promise<void> {
    // Only a body long enough to be cut counts (not the client's 1-byte probes).
    const dropAt = this.options.dropAfterBytes !== undefined && body.byteLength > this.options.dropAfterBytes ? this.options.dropAfterBytes : undefined;
    if (dropAt !== undefined) this.options.dropAfterBytes = undefined;
    const rate = this.options.bytesPerSecond ?? 0;
    for (let at = 0; at < body.byteLength; at += CHUNK_BYTES) {
      if (response.destroyed) return;
      const chunk = body.subarray(at, Math.min(body.byteLength, at + CHUNK_BYTES));
      if (dropAt !== undefined && at + chunk.byteLength > dropAt) {
        response.write(chunk.subarray(0, Math.max(0, dropAt - at)));
        await new Promise((resolve) => setTimeout(resolve, 20));
        response.destroy();
        return;
      }
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
      if (rate > 0) await new Promise((resolve) => setTimeout(resolve, (chunk.byteLength / rate) * 1000));
    }
    response.end();
  }
}

function notFound(response: ServerResponse, code: string, message: string): void {
  response.writeHead(404, { 'content-type': 'application/json', 'x-error-code': code }).end(JSON.stringify({ error: message }));
}

/** `bytes=a-b` or `bytes=a-` → [a, b+1); undefined when absent; 'invalid' when unsatisfiable. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined | 'invalid' {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!match) return 'invalid';
  const start = Number(match[1]);
  const end = match[2] === '' ? size : Math.min(size, Number(match[2]) + 1);
  return start < size && start < end ? [start, end] : 'invalid';
}
