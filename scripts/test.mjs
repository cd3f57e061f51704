#!/usr/bin/env node
// Runs the project's tests with Node's own test runner, TypeScript loaded through tsx.
// Usage: node scripts/test.mjs [unit|e2e|all] [extra files or folders...]
// Unit tests are `*.test.ts` beside the code (main/, shared/, renderer/); e2e tests live in e2e/.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const [suite = 'all', ...only] = process.argv.slice(2);

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (entry.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found.sort();
}

const folders = { unit: ['main', 'shared', 'renderer'], e2e: ['e2e'], all: ['main', 'shared', 'renderer', 'e2e'] }[suite];
if (!folders) {
  console.error(`unknown suite "${suite}": use unit, e2e or all`);
  process.exit(2);
}
const files = only.length > 0
  ? only.flatMap((p) => (statSync(join(root, p)).isDirectory() ? findTests(join(root, p)) : [p]))
  : folders.flatMap((f) => findTests(join(root, f)));

const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
