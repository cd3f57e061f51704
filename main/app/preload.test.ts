import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { PRELOAD_GLOBAL, PRELOAD_TOKEN_CHANNEL } from '../../shared/control.js';

test('the preload uses the global name and IPC channel shared/control.ts declares', async () => {
  const source = await readFile(new URL('./preload/index.ts', import.meta.url), 'utf8');
  assert.match(source, new RegExp(`exposeInMainWorld\\('${PRELOAD_GLOBAL}'`));
  assert.match(source, new RegExp(`invoke\\('${PRELOAD_TOKEN_CHANNEL}'\\)`));
  assert.doesNotMatch(source, /^import /m, 'a sandboxed preload cannot be an ES module');
});
