import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import { defaultDataDir, expandHome, prepareDataDir } from './data-dir.js';

const root = await mkdtemp(join(tmpdir(), 'tessera-datadir-'));
after(() => rm(root, { recursive: true, force: true }));

test('prepareDataDir creates nested folders', async () => {
  const dir = join(root, 'a', 'b');
  await prepareDataDir(dir);
  assert.equal((await stat(dir)).isDirectory(), true);
});

test('a data dir below a regular file is DATA_DIR_UNWRITABLE with a one-line reason', async () => {
  const file = join(root, 'a-file');
  await writeFile(file, 'x');
  await assert.rejects(prepareDataDir(join(file, 'data')), (error) => {
    assert.ok(isTesseraError(error, 'DATA_DIR_UNWRITABLE'));
    assert.match(error.message, /not a directory/);
    assert.doesNotMatch(error.message, /\n/);
    return true;
  });
});

test('default data dir is $TESSERA_HOME, else ~/.tessera', () => {
  assert.equal(defaultDataDir({}), join(homedir(), '.tessera'));
  assert.equal(defaultDataDir({ TESSERA_HOME: '/srv/tessera' }), '/srv/tessera');
  assert.equal(defaultDataDir({ TESSERA_HOME: '~/t' }), join(homedir(), 't'));
  assert.equal(expandHome('~'), homedir());
  assert.equal(expandHome('/x/~'), '/x/~');
});
