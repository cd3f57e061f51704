// `tessera run <model.gguf> "prompt"`: streams one completion to stdout (the model's chat
// template applied, unless --raw) and prints speed figures on stderr.
import { TesseraError } from '../../shared/errors.js';
import { Engine, type EngineLoadOptions } from '../engine/index.js';
import { LocalPipeline } from '../engine/local-pipeline.js';
import { architectureConfig } from '../engine/gguf/metadata.js';
import { readModelHeader } from '../engine/gguf/model-files.js';
import type { SamplingParams } from '../engine/index.js';
import { CHATML_TEMPLATE, ChatTemplate } from '../engine/tokenizer/chat-template.js';
import { stringFlag, type CliCommand, type CliOutput, type FlagValues } from './command.js';

/** llama.cpp's command-line defaults. */
export const RUN_DEFAULTS = { temperature: 0.8, topK: 40, topP: 0.95, maxTokens: 256 } as const;

/** CliOutput that can also write text without a line break (for streaming); stdout otherwise. */
type StreamingOutput = CliOutput & { write?: (text: string) => void };

export const runCommand: CliCommand = {
  description: 'generate a completion from a local GGUF model',
  usage: '[options] <model.gguf> <prompt>',
  positionals: true,
  flags: {
    temperature: { type: 'string', description: 'sampling temperature; 0 is greedy', valueName: '<t>', defaultText: String(RUN_DEFAULTS.temperature) },
    'top-p': { type: 'string', description: 'nucleus sampling; 1 is off', valueName: '<p>', defaultText: String(RUN_DEFAULTS.topP) },
    'top-k': { type: 'string', description: 'keep the k most likely tokens; 0 is off', valueName: '<k>', defaultText: String(RUN_DEFAULTS.topK) },
    seed: { type: 'string', description: 'random seed (same seed, same output)', valueName: '<n>' },
    'max-tokens': { type: 'string', description: 'most tokens to generate', valueName: '<n>', defaultText: String(RUN_DEFAULTS.maxTokens) },
    threads: { type: 'string', description: 'compute threads', valueName: '<n>', defaultText: 'all cores' },
    layers: { type: 'string', description: 'split the model at layers a and b and run the shards one after another here (output equals the whole model\'s)', valueName: '<a:b>' },
    'context-length': { type: 'string', description: 'positions of the KV cache', valueName: '<n>' },
    backend: { type: 'string', description: 'compute backend: wasm or reference', valueName: '<name>', defaultText: 'wasm' },
    raw: { type: 'boolean', description: 'use the prompt as is (no chat template); stdout carries only the generated text' },
  },
  run: async ({ flags, positionals, output }) => runCompletion(flags, positionals, output),
};

async function runCompletion(flags: FlagValues, positionals: string[], output: StreamingOutput): Promise<number> {
  const [path, prompt, extra] = positionals;
  if (path === undefined || prompt === undefined || extra !== undefined) {
    throw new TesseraError('CLI_BAD_ARGUMENT', 'usage: tessera run [options] <model.gguf> "<prompt>"');
  }
  const sampling: SamplingParams = {
    temperature: numberFlag(flags, 'temperature', RUN_DEFAULTS.temperature, { min: 0 }),
    topP: numberFlag(flags, 'top-p', RUN_DEFAULTS.topP, { min: 0, max: 1 }),
    topK: numberFlag(flags, 'top-k', RUN_DEFAULTS.topK, { min: 0, integer: true }),
    seed: optionalNumberFlag(flags, 'seed', { min: 0, integer: true }),
  };
  const maxTokens = numberFlag(flags, 'max-tokens', RUN_DEFAULTS.maxTokens, { min: 1, integer: true });
  const threads = optionalNumberFlag(flags, 'threads', { min: 1, integer: true });
  const contextLength = optionalNumberFlag(flags, 'context-length', { min: 1, integer: true });
  const layers = layersFlag(stringFlag(flags, 'layers'));
  const backend = stringFlag(flags, 'backend');
  if (backend !== undefined && backend !== 'wasm' && backend !== 'reference') {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--backend must be wasm or reference, not "${backend}"`);
  }
  const raw = flags['raw'] === true;
  const write = output.write ?? ((text: string) => void process.stdout.write(text));

  // --layers a:b splits the model at a and b into shards that run here one after another: the
  // output must be the whole model's.
  const engine = layers === undefined ? await Engine.load({ path, threads, contextLength, backend }) : await loadSplit(path, layers, { threads, contextLength, backend });
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const { info } = engine;
    const text = raw
      ? prompt
      : new ChatTemplate(info.chatTemplate ?? CHATML_TEMPLATE, { bos_token: info.bosToken ?? '', eos_token: info.eosToken ?? '' }).render({
          messages: [{ role: 'user', content: prompt }],
        });
    for await (const event of engine.generate({ prompt: text, sampling, maxTokens, signal: controller.signal })) {
      if (event.type === 'token') {
        write(event.text);
        continue;
      }
      write(event.text);
      if (!raw) write('\n');
      const { usage, timing } = event;
      output.error(
        `prompt: ${usage.promptTokens} tokens, ${timing.prefillTokensPerSecond.toFixed(1)} tokens/s; ` +
          `generated: ${usage.completionTokens} tokens, ${timing.decodeTokensPerSecond.toFixed(1)} tokens/s ` +
          `(${info.backend}, ${info.threads} threads; finish: ${event.finishReason})`,
      );
    }
    return 0;
  } finally {
    process.off('SIGINT', onInterrupt);
    await engine.close();
  }
}

async function loadSplit(
  path: string,
  [start, end]: [number, number],
  options: Pick<EngineLoadOptions, 'threads' | 'contextLength' | 'backend'>,
): Promise<Engine | LocalPipeline> {
  const nLayers = architectureConfig(await readModelHeader(path)).blockCount;
  if (!(start >= 0 && start < end && end <= nLayers)) {
    throw new TesseraError('CLI_BAD_ARGUMENT', `--layers ${start}:${end} is not a range of this model's ${nLayers} layers`);
  }
  const boundaries = [start, end].filter((layer) => layer > 0 && layer < nLayers);
  if (boundaries.length === 0) return Engine.load({ path, ...options });
  return LocalPipeline.load({ path, ...options }, boundaries);
}

function optionalNumberFlag(flags: FlagValues, name: string, limits: { min?: number; max?: number; integer?: boolean }): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(value) &&
    (limits.min === undefined || value >= limits.min) &&
    (limits.max === undefined || value <= limits.max) &&
    (!limits.integer || Number.isInteger(value));
  if (!ok) {
    const kind = limits.integer ? 'an integer' : 'a number';
    const range =
      limits.max !== undefined ? ` from ${limits.min ?? '-∞'} to ${limits.max}` : limits.min !== undefined ? ` of at least ${limits.min}` : '';
    throw new TesseraError('CLI_BAD_ARGUMENT', `--${name} must be ${kind}${range}, not "${text}"`);
  }
  return value;
}

function numberFlag(flags: FlagValues, name: string, fallback: number, limits: { min?: number; max?: number; integer?: boolean }): number {
  return optionalNumberFlag(flags, name, limits) ?? fallback;
}

/** "a:b" → [a, b]; whether the range fits the model is checked when it loads. */
function layersFlag(text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (match === null) throw new TesseraError('CLI_BAD_ARGUMENT', `--layers must look like a:b (e.g. 0:28), not "${text}"`);
  return [Number(match[1]), Number(match[2])];
}
