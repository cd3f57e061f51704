import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadOrCreateToken, TOKEN_FILE } from './token.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-token-'));
after(() => rm(root, { recursive: true, force: true }));

test('token is random, long, stored owner-only and stable across starts', async () => {
  const token = await loadOrCreateToken(root);
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(await loadOrCreateToken(root), token);
  assert.equal((await readFile(join(root, TOKEN_FILE), 'utf8')).trim(), token);
  if (process.platform !== 'win32') assert.equal((await stat(join(root, TOKEN_FILE))).mode & 0o777, 0o600);
});

test('a token file readable by others is narrowed to 0600', { skip: process.platform === 'win32' }, async () => {
  await chmod(join(root, TOKEN_FILE), 0o644);
  await loadOrCreateToken(root);
  assert.equal((await stat(join(root, TOKEN_FILE))).mode & 0o777, 0o600);
});

test('a mangled token file is replaced by a fresh token', async () => {
  const dir = await mkdtemp(join(root, 'mangled-'));
  await writeFile(join(dir, TOKEN_FILE), 'short\n');
  const token = await loadOrCreateToken(dir);
  assert.notEqual(token, 'short');
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
});
