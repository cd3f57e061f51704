#!/usr/bin/env node
// The `tessera` command. Runs the compiled CLI from dist/; in a checkout that has not been built
// (or with TESSERA_FROM_SOURCE=1) it runs the TypeScript sources through tsx instead.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/main/cli/index.js', import.meta.url);
const fromSource = process.env.TESSERA_FROM_SOURCE === '1' || !existsSync(compiled);

let cli;
if (fromSource) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
  } catch {
    console.error('tessera: not built and tsx is not installed; run `npm install && npm run build` first');
    process.exit(1);
  }
  cli = await import(new URL('../main/cli/index.ts', import.meta.url).href);
} else {
  cli = await import(compiled.href);
}

process.exitCode = await cli.runCli(process.argv.slice(2));
