// A node's identity: a stable id (made once, kept forever in the data directory) and a name the
// user may change. Two nodes on one machine with different data directories are two nodes.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MAX_NODE_NAME_LENGTH } from '../../shared/control.js';
import { TesseraError } from '../../shared/errors.js';
import { writeFileAtomic } from './data-dir.js';

export const IDENTITY_FILE = 'identity.json';

export interface NodeIdentity {
  id: string;
  name: string;
}

const identityFileSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1),
  name: z.string().min(1).max(MAX_NODE_NAME_LENGTH),
});

/**
 * Reads the identity from `dataDir`, creating it on first start. `name`, when given, replaces the
 * stored name (and is saved); `defaultName` names a brand-new node.
 */
export async function loadOrCreateIdentity(
  dataDir: string,
  options: { name?: string; defaultName: string },
): Promise<NodeIdentity> {
  const stored = await readIdentity(dataDir);
  const identity: NodeIdentity = {
    id: stored?.id ?? randomUUID(),
    name: options.name ?? stored?.name ?? clampName(options.defaultName),
  };
  if (!stored || stored.name !== identity.name) await saveIdentity(dataDir, identity);
  return identity;
}

export async function saveIdentity(dataDir: string, identity: NodeIdentity): Promise<void> {
  const contents = { version: 1, id: identity.id, name: identity.name };
  await writeFileAtomic(join(dataDir, IDENTITY_FILE), `${JSON.stringify(contents, null, 2)}\n`);
}

async function readIdentity(dataDir: string): Promise<NodeIdentity | undefined> {
  const path = join(dataDir, IDENTITY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  // A damaged file is reported, never silently replaced: replacing it would give the node a new id.
  try {
    const parsed = identityFileSchema.parse(JSON.parse(text));
    return { id: parsed.id, name: parsed.name };
  } catch (error) {
    throw new TesseraError(
      'DATA_DIR_INVALID',
      `node identity file ${path} is damaged; repair it, or delete it to give this node a new id`,
      { cause: error },
    );
  }
}

function clampName(name: string): string {
  const trimmed = name.trim() || 'tessera-node';
  return trimmed.slice(0, MAX_NODE_NAME_LENGTH);
}
