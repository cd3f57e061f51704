// `npm run make-model -- --arch qwen3-0.6b --type Q8_0 --out models/x.gguf [--layers 4] [--tiny] [--seed 1] [--split N]`
// Writes a GGUF model with random weights in the exact shape of a real one (see
// engine/gguf/random-model.ts), for tests and benchmarks that must not download anything.

import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { isTesseraError, TesseraError } from '../../shared/errors.js';
import {
  MODEL_PRESETS,
  WEIGHT_FORMATS,
  writeRandomModel,
  type ModelPreset,
  type RandomModelOptions,
  type WeightFormat,
} from '../engine/gguf/random-model.js';

const USAGE = `usage: npm run make-model -- --arch <${Object.keys(MODEL_PRESETS).join('|')}> --type <${WEIGHT_FORMATS.join('|')}> --out <file.gguf> [--layers N] [--tiny] [--seed N] [--split N]`;

export function parseMakeModelArgs(argv: readonly string[]): RandomModelOptions & { out: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        arch: { type: 'string' },
        type: { type: 'string' },
        out: { type: 'string' },
        layers: { type: 'string' },
        seed: { type: 'string' },
        split: { type: 'string' },
        tiny: { type: 'boolean' },
      },
      strict: true,
    }));
  } catch (cause) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `${(cause as Error).message}\n${USAGE}`, { cause });
  }
  const { arch, type, out } = values;
  if (arch === undefined || !(arch in MODEL_PRESETS)) throw new TesseraError('CLI_BAD_ARGUMENT', `--arch is required and must be a known preset\n${USAGE}`);
  if (type === undefined || !WEIGHT_FORMATS.includes(type as WeightFormat)) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--type is required and must be one of ${WEIGHT_FORMATS.join(', ')}\n${USAGE}`);
  }
  if (out === undefined) throw new TesseraError('CLI_BAD_ARGUMENT', `--out is required\n${USAGE}`);
  const integer = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw new TesseraError('CLI_BAD_ARGUMENT', `--${name} must be a non-negative integer, got ${text}`);
    return Number(text);
  };
  const layers = integer('layers', values.layers);
  const seed = integer('seed', values.seed);
  const split = integer('split', values.split);
  if (split !== undefined && split < 1) throw new TesseraError('CLI_BAD_ARGUMENT', `--split must be at least 1, got ${split}`);
  return {
    preset: arch as ModelPreset,
    format: type as WeightFormat,
    out,
    tiny: values.tiny === true,
    ...(layers === undefined ? {} : { layers }),
    ...(seed === undefined ? {} : { seed }),
    ...(split === undefined ? {} : { split }),
  };
}

async function main(): Promise<void> {
  const options = parseMakeModelArgs(process.argv.slice(2));
  await mkdir(dirname(options.out), { recursive: true });
  const started = performance.now();
  const written = await writeRandomModel(options.out, options);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const megabytes = (written.fileBytes / 1024 / 1024).toFixed(1);
  process.stderr.write(
    `wrote ${written.paths.join(', ')}: ${written.shape.architecture}, ${written.shape.blockCount} layers, hidden ${written.shape.embeddingLength}, ${options.format}, ${megabytes} MiB in ${seconds}s\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`make-model: ${isTesseraError(error) ? `${error.code}: ${error.message}` : String(error)}\n`);
    process.exit(isTesseraError(error, 'CLI_BAD_ARGUMENT') ? 2 : 1);
  });
}
