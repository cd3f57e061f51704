#!/usr/bin/env node
// Compiles the AssemblyScript kernels (main/engine/kernels/assembly/) with SIMD, an imported
// shared memory (so every worker thread instantiates the module over the same memory) and no
// garbage collector (the TypeScript side owns all allocation), in two variants from the same
// sources: kernels.wasm (plain SIMD, runs everywhere) and kernels-relaxed.wasm (plus relaxed SIMD:
// faster 4/6-bit dot products; used where the runtime supports it, see load-kernels.ts).
// Usage: node scripts/build-kernels.mjs [--if-stale]
//   --if-stale  only rebuild when a source is newer than the output (used by tests in dev).
import { mkdirSync, readdirSync, renameSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const kernelsDir = fileURLToPath(new URL('../main/engine/kernels/', import.meta.url));
const sourceDir = join(kernelsDir, 'assembly');
const outDir = join(kernelsDir, 'build');
/** Output file → extra features. */
const VARIANTS = { 'kernels.wasm': 'simd,threads', 'kernels-relaxed.wasm': 'simd,threads,relaxed-simd' };

/** 4 GiB in 64 KiB pages: the most a wasm32 memory can hold. */
const MAXIMUM_MEMORY_PAGES = 65536;

function newestSourceMtime() {
  let newest = statSync(fileURLToPath(import.meta.url)).mtimeMs;
  for (const name of readdirSync(sourceDir)) newest = Math.max(newest, statSync(join(sourceDir, name)).mtimeMs);
  return newest;
}

function isStale() {
  try {
    const newest = newestSourceMtime();
    return Object.keys(VARIANTS).some((name) => statSync(join(outDir, name)).mtimeMs < newest);
  } catch {
    return true;
  }
}

export async function buildKernels() {
  mkdirSync(outDir, { recursive: true });
  const files = [];
  for (const [name, features] of Object.entries(VARIANTS)) files.push(await buildVariant(join(outDir, name), features));
  return files;
}

async function buildVariant(outFile, features) {
  // Write beside the target and rename, so parallel test processes never read half a file.
  const temporary = `${outFile}.${process.pid}.tmp`;
  const stderr = [];
  const { error } = await asc.main(
    [
      join(sourceDir, 'index.ts'),
      '--outFile', temporary,
      '-O3', '--noAssert', '--converge',
      '--runtime', 'stub',
      '--enable', features,
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
  const files = await buildKernels();
  const sizes = files.map((file) => `${file} (${statSync(file).size} bytes)`).join(', ');
  console.log(`built ${sizes} in ${Math.round(performance.now() - started)} ms`);
}
