// /api/node: this node's identity and device, and renaming it.

import { CONTROL_NODE_PATH, nodeUpdateSchema, type NodeInfo } from '../../../shared/control.js';
import { TesseraError } from '../../../shared/errors.js';
import { readJsonBody } from '../body.js';
import type { ControlRoutes } from '../control-router.js';
import { MAX_CONTROL_REQUEST_BODY_BYTES } from '../limits.js';
import { sendJson } from '../respond.js';

export interface NodeRoutesBackend {
  nodeInfo(): NodeInfo;
  renameNode(name: string): Promise<NodeInfo>;
}

export function nodeRoutes(backend: NodeRoutesBackend): ControlRoutes {
  return {
    [CONTROL_NODE_PATH]: {
      GET: (_request, response) => sendJson(response, 200, backend.nodeInfo()),
      PATCH: async (request, response) => {
        const update = nodeUpdateSchema.safeParse(await readJsonBody(request, MAX_CONTROL_REQUEST_BODY_BYTES));
        if (!update.success) throw new TesseraError('REQUEST_INVALID', `invalid node update: ${update.error.issues[0]?.message ?? 'bad body'}`);
        sendJson(response, 200, await backend.renameNode(update.data.name));
      },
    },
  };
}
