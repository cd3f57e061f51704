// Serves the built UI (dist/renderer) at `/`. Paths without a file extension fall back to
// index.html so client-side pages can be reloaded. The HTML carries a strict CSP: scripts, styles
// and connections only from this node.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { TesseraError } from '../../shared/errors.js';
import type { RequestContext, Router } from './router.js';

/** Content-Security-Policy for the UI (the Electron shell applies the same). `'self'` covers ws: to this node. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Shown when the UI has not been built, instead of a bare 404. */
const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Tessera</title>
<p>The Tessera UI has not been built. Run <code>npm run build:renderer</code> and reload.</p>`;

export class StaticFilesRouter implements Router {
  constructor(private readonly root: string) {}

  async handleRequest(request: IncomingMessage, response: ServerResponse, { url }: RequestContext): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      throw new TesseraError('METHOD_NOT_ALLOWED', `${request.method ?? ''} is not allowed here`);
    }
    const file = await this.#resolve(url.pathname);
    if (!file) {
      if (extname(url.pathname) !== '') throw new TesseraError('NOT_FOUND', `no file ${url.pathname}`);
      return sendNotBuilt(response);
    }
    const type = CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream';
    const isHtml = type.startsWith('text/html');
    response.writeHead(200, {
      'content-type': type,
      'content-length': file.size,
      // Vite puts a content hash in asset names, so they never change; the HTML must always be fresh.
      'cache-control': file.path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      ...(isHtml ? { 'content-security-policy': UI_CONTENT_SECURITY_POLICY, 'x-frame-options': 'DENY' } : {}),
    });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file.path)
      .on('error', (error) => response.destroy(error))
      .pipe(response);
  }

  /** The file for a URL path, or index.html for extension-less paths; undefined when neither exists. */
  async #resolve(pathname: string): Promise<{ path: string; size: number } | undefined> {
    let relative: string;
    try {
      relative = normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, '');
    } catch {
      throw new TesseraError('REQUEST_INVALID', 'malformed URL path');
    }
    if (relative.split(/[/\\]/).includes('..') || relative.includes('\0')) {
      throw new TesseraError('NOT_FOUND', 'no such file');
    }
    const candidates = [join(this.root, relative)];
    if (extname(relative) === '') candidates.push(join(this.root, 'index.html'));
    for (const candidate of candidates) {
      const info = await stat(candidate).catch(() => undefined);
      if (info?.isFile()) return { path: candidate, size: info.size };
    }
    return undefined;
  }
}

function sendNotBuilt(response: ServerResponse): void {
  response.writeHead(503, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': UI_CONTENT_SECURITY_POLICY,
    'cache-control': 'no-store',
  });
  response.end(NOT_BUILT_PAGE);
}
