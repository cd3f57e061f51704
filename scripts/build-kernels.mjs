#!/usr/bin/env node
// Compiles the AssemblyScript kernels (main/engine/kernels/assembly/) into one .wasm with SIMD,
// an imported shared memory (so every worker thread instantiates the module over the same
// memory) and no garbage collector (the TypeScript side owns all allocation).
// Usage: node scripts/build-kernels.mjs [--if-stale]
//   --if-stale  only rebuild when a source is newer than the output (used by tests in dev).
import { mkdirSync, readdirSync, renameSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const kernelsDir = fileURLToPath(new URL('../main/engine/kernels/', import.meta.url));
const sourceDir = join(kernelsDir, 'assembly');
const outDir = join(kernelsDir, 'build');
const outFile = join(outDir, 'kernels.wasm');

/** 4 GiB in 64 KiB pages: the most a wasm32 memory can hold. */
const MAXIMUM_MEMORY_PAGES = 65536;

function newestSourceMtime() {
  let newest = statSync(fileURLToPath(import.meta.url)).mtimeMs;
  for (const name of readdirSync(sourceDir)) newest = Math.max(newest, statSync(join(sourceDir, name)).mtimeMs);
  return newest;
}

function isStale() {
  try {
    return statSync(outFile).mtimeMs < newestSourceMtime();
  } catch {
    return true;
  }
}

export async function buildKernels() {
  mkdirSync(outDir, { recursive: true });
  // Write beside the target and rename, so parallel test processes never read half a file.
  const temporary = `${outFile}.${process.pid}.tmp`;
  const stderr = [];
  const { error } = await asc.main(
    [
      join(sourceDir, 'index.ts'),
      '--outFile', temporary,
      '-O3', '--noAssert', '--converge',
      '--runtime', 'stub',
      '--enable', 'simd,threads',
      '--importMemory', '--sharedMemory',
      '--initialMemory', '1',
      '--maximumMemory', String(MAXIMUM_MEMORY_PAGES),
      '--use', 'abort=',
    ],
    { stderr: { write: (chunk) => stderr.push(String(chunk)) } },
  );
  if (error) {
    rmSync(temporary, { force: true });
    throw new Error(`AssemblyScript build failed: ${error.message}\n${stderr.join('')}`);
  }
  renameSync(temporary, outFile);
  return outFile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);
  const started = performance.now();
  const file = await buildKernels();
  console.log(`built ${file} (${statSync(file).size} bytes) in ${Math.round(performance.now() - started)} ms`);
}
