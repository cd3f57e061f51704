#!/usr/bin/env node
// Runs after `tsc -p tsconfig.build.json`: copies what tsc does not emit into dist/ —
// the compiled kernels (.wasm, built by scripts/build-kernels.mjs) and package.json files that
// set a folder's module format (the Electron preload folder is CommonJS).
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

function copy(from) {
  const to = join(dist, relative(root, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  return to;
}

const copied = [];

const kernels = join(root, 'main', 'engine', 'kernels', 'build');
if (existsSync(kernels)) {
  for (const name of readdirSync(kernels)) if (name.endsWith('.wasm')) copied.push(copy(join(kernels, name)));
}

const preloadPackage = join(root, 'main', 'app', 'preload', 'package.json');
if (existsSync(preloadPackage)) copied.push(copy(preloadPackage));

console.log(`copy-assets: ${copied.length} file(s) into dist/${copied.length ? '\n  ' : ''}${copied.map((p) => relative(root, p)).join('\n  ')}`);
