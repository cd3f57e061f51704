// /api/catalog and /api/downloads: the recommended models (each marked with whether it fits this
// node's memory) and the node's pulls from the hub (start, list, cancel). Progress arrives as
// `download` events on the events socket.

import { catalogWithFit } from '../../../shared/catalog.js';
import { CONTROL_CATALOG_PATH, CONTROL_DOWNLOADS_PATH, downloadRequestSchema, type DownloadRequest, type DownloadState } from '../../../shared/control.js';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { ControlRoutes } from '../control-router.js';
import { MAX_CONTROL_REQUEST_BODY_BYTES } from '../limits.js';
import { sendJson } from '../respond.js';

export interface DownloadsRoutesBackend {
  /** Memory the catalog's fit is judged against (this node's total, or the cluster's). */
  memoryBytes(): number;
  list(): DownloadState[];
  start(request: DownloadRequest): DownloadState;
  cancel(id: string): Promise<DownloadState | undefined>;
}

export function downloadsRoutes(backend: DownloadsRoutesBackend): ControlRoutes {
  return {
    [CONTROL_CATALOG_PATH]: {
      GET: (_request, response) => {
        const memoryBytes = backend.memoryBytes();
        sendJson(response, 200, { memoryBytes, entries: catalogWithFit(memoryBytes) });
      },
    },
    [CONTROL_DOWNLOADS_PATH]: {
      GET: (_request, response) => sendJson(response, 200, { downloads: backend.list() }),
      POST: async (request, response) => {
        const parsed = downloadRequestSchema.safeParse(await readJsonBody(request, MAX_CONTROL_REQUEST_BODY_BYTES));
        if (!parsed.success) throw new TesseraError('REQUEST_INVALID', `invalid download: ${parsed.error.issues[0]?.message ?? 'bad body'}`);
        if (parsed.data.layers && parsed.data.layers[0] >= parsed.data.layers[1]) {
          throw new TesseraError('REQUEST_INVALID', 'layers must be [start, end) with start < end', { param: 'layers' });
        }
        let state: DownloadState;
        try {
          state = backend.start(parsed.data);
        } catch (error) {
          // A malformed repo name is the request's fault, not the server's.
          if (error instanceof TesseraError && error.code === 'CLI_BAD_ARGUMENT') throw new TesseraError('REQUEST_INVALID', error.message, { param: 'repo' });
          throw error;
        }
        sendJson(response, 202, state);
      },
    },
    [`${CONTROL_DOWNLOADS_PATH}/*`]: {
      DELETE: async (_request, response, url) => {
        const id = decodeURIComponent(url.pathname.slice(CONTROL_DOWNLOADS_PATH.length + 1));
        const state = await backend.cancel(id);
        if (!state) throw new TesseraError('NOT_FOUND', `no download ${id}`);
        sendJson(response, 200, state);
      },
    },
  };
}
