import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import { IDENTITY_FILE, loadOrCreateIdentity } from './identity.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-identity-'));
after(() => rm(root, { recursive: true, force: true }));
let count = 0;
const freshDir = async () => {
  const dir = join(root, String(count++));
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  return dir;
};

test('identity is created once and read back unchanged', async () => {
  const dir = await freshDir();
  const first = await loadOrCreateIdentity(dir, { defaultName: 'desk' });
  const second = await loadOrCreateIdentity(dir, { defaultName: 'other' });
  assert.deepEqual(second, first);
  assert.equal(first.name, 'desk');
  assert.match(first.id, /^[0-9a-f-]{36}$/);
  const stored = JSON.parse(await readFile(join(dir, IDENTITY_FILE), 'utf8'));
  assert.deepEqual(stored, { version: 1, id: first.id, name: 'desk' });
});

test('two data directories give two ids', async () => {
  const a = await loadOrCreateIdentity(await freshDir(), { defaultName: 'desk' });
  const b = await loadOrCreateIdentity(await freshDir(), { defaultName: 'desk' });
  assert.notEqual(a.id, b.id);
});

test('a given name replaces the stored one and keeps the id', async () => {
  const dir = await freshDir();
  const first = await loadOrCreateIdentity(dir, { defaultName: 'desk' });
  const renamed = await loadOrCreateIdentity(dir, { defaultName: 'desk', name: 'render box' });
  assert.deepEqual(renamed, { id: first.id, name: 'render box' });
  assert.deepEqual(await loadOrCreateIdentity(dir, { defaultName: 'desk' }), renamed);
});

test('a damaged identity file is reported, not replaced', async () => {
  const dir = await freshDir();
  await writeFile(join(dir, IDENTITY_FILE), '{"version":1,"id":');
  await assert.rejects(loadOrCreateIdentity(dir, { defaultName: 'desk' }), (error) => isTesseraError(error, 'DATA_DIR_INVALID'));
  assert.equal(await readFile(join(dir, IDENTITY_FILE), 'utf8'), '{"version":1,"id":');
});
