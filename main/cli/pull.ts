// `tessera pull <owner/repo>[:<file.gguf>]`: downloads a model from the Hugging Face hub (HF_ENDPOINT,
// HF_TOKEN) into the node's models folder, like `ollama pull`. With no file named it lists the
// repo's GGUF files and takes Q4_K_M where there is one. Ctrl-C stops; the same command continues.
import { TesseraError } from '../../shared/errors.js';
import { formatBytes } from '../models/disk-space.js';
import { hubSettingsFromEnv } from '../models/hub-client.js';
import { baseName, parseModelRef } from '../models/model-ref.js';
import { ModelStore, modelsDirOf } from '../models/model-store.js';
import { ProgressMeter } from '../models/progress-meter.js';
import { pullModel } from '../models/pull-model.js';
import { stringFlag, type CliCommand } from './command.js';
import { NODE_FLAGS, nodeConfigFromFlags } from './node-flags.js';

/** Redraws of the progress line at most this often. */
const PROGRESS_REDRAW_MS = 200;

export const pullCommand: CliCommand = {
  description: 'download a model from Hugging Face (resumable)',
  usage: '<owner/repo>[:<file.gguf>] [options]',
  positionals: true,
  flags: {
    'data-dir': NODE_FLAGS['data-dir']!,
    layers: { type: 'string', valueName: '<start:end>', description: 'fetch only layers [start, end) as a per-shard file' },
  },
  run: async ({ flags, positionals, output }) => {
    if (positionals.length !== 1) throw new TesseraError('CLI_BAD_ARGUMENT', 'pull takes one model: tessera pull <owner/repo>[:<file.gguf>]');
    const ref = parseModelRef(positionals[0]!);
    const layers = parseLayers(stringFlag(flags, 'layers'));
    const store = new ModelStore(modelsDirOf(nodeConfigFromFlags({ 'data-dir': flags['data-dir'] }).dataDir));
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const bar = new ProgressLine();
    try {
      const result = await pullModel({
        ref,
        store,
        hub: hubSettingsFromEnv(),
        signal: abort.signal,
        ...(layers ? { layers } : {}),
        onEvent: (event) => {
          if (event.type === 'resolved' && ref.file === undefined) {
            output.out(`${ref.repo}:`);
            for (const candidate of event.candidates) {
              const mark = candidate === event.model ? '*' : ' ';
              output.out(` ${mark} ${baseName(candidate.files[0]!.path).padEnd(48)} ${formatBytes(candidate.sizeBytes).padStart(9)}  ${candidate.quant ?? '?'}`);
            }
          } else if (event.type === 'progress') {
            bar.update(event.file, event.receivedBytes, event.totalBytes);
          }
        },
      });
      bar.finish();
      output.out(`pulled ${result.manifest.id} (${formatBytes(result.manifest.files.reduce((sum, file) => sum + file.sizeBytes, 0))}) to ${store.dir}`);
      return 0;
    } catch (error) {
      bar.finish();
      if (error instanceof TesseraError && error.code === 'DOWNLOAD_ABORTED') {
        throw new TesseraError('DOWNLOAD_ABORTED', 'stopped; run the same command again to continue where it left off');
      }
      throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

function parseLayers(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) >= Number(match[2])) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--layers takes start:end with start < end, e.g. 0:14 (got "${text}")`);
  }
  return [Number(match[1]), Number(match[2])];
}

/** A one-line progress bar on stderr, drawn only on a terminal so logs and pipes stay clean. */
class ProgressLine {
  private meter: ProgressMeter | undefined;
  private lastDraw = 0;
  private drawn = false;

  update(file: string, received: number, total: number): void {
    if (!process.stderr.isTTY) return;
    if (this.meter === undefined || this.meter.totalBytes !== total) this.meter = new ProgressMeter(total, received);
    const figures = this.meter.update(received);
    const now = performance.now();
    if (now - this.lastDraw < PROGRESS_REDRAW_MS && received < total) return;
    this.lastDraw = now;
    const width = 24;
    const fraction = total > 0 ? Math.min(1, received / total) : 1;
    const filled = Math.round(fraction * width);
    const eta = figures.etaSeconds === null ? '--:--' : formatDuration(figures.etaSeconds);
    const line = `${file.slice(0, 40)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}% ${formatBytes(received)}/${formatBytes(total)} ${formatBytes(figures.bytesPerSecond)}/s ETA ${eta}`;
    process.stderr.write(`\r${line}\x1b[K`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) process.stderr.write('\n');
    this.drawn = false;
  }
}

function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}
