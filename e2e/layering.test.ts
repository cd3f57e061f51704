// The lint rule that keeps the layers apart (eslint.config.js, local/layering) catches what it should.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { REPOSITORY_ROOT } from './support/tessera-process.js';

const eslint = new ESLint({ cwd: REPOSITORY_ROOT });

async function layeringMessages(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPOSITORY_ROOT, path) });
  return result!.messages.filter((message) => message.ruleId === 'local/layering').map((message) => message.message);
}

test('electron is allowed in main/app only', async () => {
  const code = "import { app } from 'electron';\nexport const a = app;\n";
  assert.deepEqual(await layeringMessages('main/app/probe.ts', code), []);
  assert.match((await layeringMessages('main/node/probe.ts', code))[0] ?? '', /only in main\/app/);
});

test('shared/ may not import Node built-ins or main/', async () => {
  assert.equal((await layeringMessages('shared/probe.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n")).length, 1);
  assert.equal((await layeringMessages('shared/probe.ts', "import { createNode } from '../main/node/node.js';\nexport const c = createNode;\n")).length, 1);
  assert.deepEqual(await layeringMessages('shared/probe.ts', "import { z } from 'zod';\nexport const s = z.string();\n"), []);
});

test('renderer/ may import shared/ and npm packages, not main/ or Node', async () => {
  assert.deepEqual(await layeringMessages('renderer/src/probe.ts', "import { useState } from 'react';\nimport { CONTROL_NODE_PATH } from '../../shared/control.js';\nexport const u = [useState, CONTROL_NODE_PATH];\n"), []);
  assert.equal((await layeringMessages('renderer/src/probe.ts', "import { createNode } from '../../main/node/node.js';\nexport const c = createNode;\n")).length, 1);
  assert.equal((await layeringMessages('renderer/src/probe.ts', "import { join } from 'node:path';\nexport const j = join;\n")).length, 1);
});
