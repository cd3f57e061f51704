// The engine thread: owns one model shard, its backend and KV caches, and answers the main
// thread's requests one at a time (protocol.ts). Compute blocks this thread, never the main one.

import { parentPort } from 'node:worker_threads';
import { isTesseraError, TesseraError } from '../../../shared/errors.js';
import type { ComputeBackend } from '../backend.js';
import { layerTensors } from '../gguf/layers.js';
import { getCount, getString } from '../gguf/metadata.js';
import { GGUFModelFiles } from '../gguf/model-files.js';
import type { GGUFHeader } from '../gguf/types.js';
import { createBackend } from '../model/backends.js';
import { loadShard } from '../model/llama.js';
import { ShardRunner } from '../model/shard-runner.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { collectGarbage } from './collect-garbage.js';
import { generate } from './generation.js';
import { Embedder, poolingTypeOf } from './embedding.js';
import { LoadProgress, type ProgressReport } from './load-progress.js';
import type { EngineReply, EngineRequest, ModelInfo, WorkerLoadOptions } from './protocol.js';

/** Positions per sequence when the caller does not say (the model's own context if smaller). */
export const DEFAULT_CONTEXT_LENGTH = 4096;
/** KV caches kept at once when the caller does not say. */
export const DEFAULT_MAX_SEQUENCES = 1;

interface Loaded {
  readonly runner: ShardRunner;
  readonly backend: ComputeBackend;
  readonly tokenizer?: Tokenizer;
  /** Present when the file names a pooling type and this engine holds the whole model. */
  readonly embedder?: Embedder;
}

const port = parentPort;
if (port === null) throw new Error('engine-thread.ts must run in a worker thread');

let loaded: Loaded | undefined;
/** Requests run strictly one after another, in the order they came. */
let queue: Promise<void> = Promise.resolve();

function reply(message: EngineReply): void {
  port!.postMessage(message);
}

/** Replies with `array`'s buffer moved, not copied; only for a fresh array that owns its whole buffer. */
function replyTransferring(message: EngineReply, array: Float32Array): void {
  const owned = array.buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength;
  port!.postMessage(message, owned ? [array.buffer as ArrayBuffer] : []);
}

port.on('message', (request: EngineRequest) => {
  queue = queue.then(() => handle(request)).catch((error: unknown) => {
    reply({
      type: 'error',
      id: request.id,
      code: isTesseraError(error) ? error.code : 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
    });
  });
});

async function handle(request: EngineRequest): Promise<void> {
  switch (request.type) {
    case 'load': {
      if (loaded !== undefined) throw new TesseraError('REQUEST_INVALID', 'this engine thread already holds a model');
      const started = performance.now();
      const { info, model } = await load(request.options, request.id);
      loaded = model;
      // The header, the merge strings and the read buffers are garbage now: free them before the
      // first prompt, which may keep this thread busy past the idle time V8 would wait for.
      collectGarbage();
      reply({ type: 'loaded', id: request.id, info: { ...info, loadMs: performance.now() - started } });
      return;
    }
    case 'generate': {
      const model = need();
      if (model.tokenizer === undefined) throw new TesseraError('TOKENIZER_UNSUPPORTED', 'the file has no tokenizer');
      if (!model.runner.shard.isFirst || !model.runner.shard.isLast) {
        throw new TesseraError('REQUEST_INVALID', 'generate needs the whole model; a shard takes forward steps');
      }
      const flag = new Int32Array(request.abortFlag);
      const events = generate(
        {
          runner: model.runner,
          tokenizer: model.tokenizer,
          aborted: () => Atomics.load(flag, 0) !== 0,
        },
        request.request,
      );
      for (const event of events) reply({ type: 'event', id: request.id, event });
      reply({ type: 'result', id: request.id, value: null });
      return;
    }
    case 'forward': {
      const output = need().runner.forward(request.sequence, request.input, request.position, { allLogits: request.allLogits });
      // Hand the output's buffer over rather than cloning it: a last shard's logits are a whole
      // vocabulary (~600 KB a token for Qwen3), and cloning them cost more than a ring hop.
      replyTransferring({ type: 'result', id: request.id, value: output }, output.data);
      return;
    }
    case 'tokenize':
      reply({
        type: 'result',
        id: request.id,
        value: needTokenizer().encode(request.text, { addBos: request.addBos, parseSpecial: request.parseSpecial }),
      });
      return;
    case 'detokenize':
      reply({ type: 'result', id: request.id, value: needTokenizer().decode(request.tokens, { special: request.special }) });
      return;
    case 'embed': {
      const embedder = need().embedder;
      if (embedder === undefined) throw new TesseraError('REQUEST_INVALID', 'this model is not an embedding model (its GGUF names no pooling type)');
      reply({ type: 'result', id: request.id, value: embedder.embed(request.inputs) });
      return;
    }
    case 'drop-sequence':
      need().runner.dropSequence(request.sequence);
      reply({ type: 'result', id: request.id, value: null });
      return;
    case 'close':
      loaded?.backend.dispose();
      loaded = undefined;
      reply({ type: 'result', id: request.id, value: null });
      port!.close();
      return;
    default: {
      const unknown: never = request;
      throw new TesseraError('INTERNAL', `unknown engine request ${JSON.stringify(unknown)}`);
    }
  }
}

function need(): Loaded {
  if (loaded === undefined) throw new TesseraError('ENGINE_CLOSED', 'no model is loaded');
  return loaded;
}

function needTokenizer(): Tokenizer {
  const tokenizer = need().tokenizer;
  if (tokenizer === undefined) throw new TesseraError('TOKENIZER_UNSUPPORTED', 'the file has no tokenizer');
  return tokenizer;
}

async function load(options: WorkerLoadOptions, id: number): Promise<{ info: Omit<ModelInfo, 'loadMs'>; model: Loaded }> {
  // The kernel threads start while the header(s) are read: both take a good part of a second.
  const starting = createBackend({ kind: options.backend, threads: options.threads });
  const [filesResult, backendResult] = await Promise.allSettled([GGUFModelFiles.open(options.path), starting]);
  const backend = backendResult.status === 'fulfilled' ? backendResult.value : undefined;
  const files = filesResult.status === 'fulfilled' ? filesResult.value : undefined;
  try {
    if (filesResult.status === 'rejected') throw filesResult.reason;
    if (backendResult.status === 'rejected') throw backendResult.reason;
    const header = files!.header;
    const compute = backend!;
    const progress = weightProgress(header, options.layers, (loadedBytes, totalBytes) =>
      reply({ type: 'load-progress', id, loadedBytes, totalBytes }),
    );
    const shard = await loadShard({
      header,
      backend: compute,
      layers: options.layers,
      readTensor: async (tensor) => {
        const bytes = await files!.readTensor(tensor);
        progress.add(bytes.length);
        return bytes;
      },
      readTensorRange: async (tensor, byteOffset, target) => {
        await files!.readTensorRange(tensor, byteOffset, target);
        progress.add(target.length);
      },
    });
    progress.finish();
    const contextLength = options.contextLength ?? Math.min(DEFAULT_CONTEXT_LENGTH, shard.config.context_length);
    const runner = new ShardRunner(shard, {
      contextLength,
      maxSequences: options.maxSequences ?? DEFAULT_MAX_SEQUENCES,
      maxBatchTokens: options.maxBatchTokens,
    });
    const tokenizer = header.metadata.has('tokenizer.ggml.model') ? new Tokenizer(header.metadata) : undefined;
    const pooling = poolingTypeOf(header.metadata);
    const embedder =
      pooling !== undefined && tokenizer !== undefined && shard.isFirst && shard.isLast ? new Embedder(runner, tokenizer, pooling, header.metadata) : undefined;
    const info: Omit<ModelInfo, 'loadMs'> = {
      path: options.path,
      name: stringMetadata(header, 'general.name'),
      architecture: shard.config.architecture,
      layers: [shard.start, shard.end],
      nLayers: shard.config.n_layers,
      dim: shard.config.dim,
      vocabSize: shard.config.vocab_size,
      contextLength,
      trainedContextLength: shard.config.context_length,
      isFirst: shard.isFirst,
      isLast: shard.isLast,
      chatTemplate: stringMetadata(header, 'tokenizer.chat_template'),
      bosToken: tokenizer?.bosId === undefined ? undefined : tokenizer.tokenText(tokenizer.bosId),
      eosToken: tokenizer?.eosId === undefined ? undefined : tokenizer.tokenText(tokenizer.eosId),
      ...(embedder === undefined ? {} : { pooling: embedder.pooling }),
      backend: compute.name,
      threads: compute.threads,
    };
    return { info, model: { runner, backend: compute, tokenizer, ...(embedder === undefined ? {} : { embedder }) } };
  } catch (error) {
    backend?.dispose();
    throw error;
  } finally {
    await files?.close();
  }
}

/**
 * Progress over the weight bytes the shard reads: the tensors of its layer range (plus the
 * embeddings and output it holds). Counted from the first read, when loadShard has already
 * checked the range and the tensors, so a bad range keeps loadShard's own error.
 */
function weightProgress(
  header: GGUFHeader,
  layers: readonly [number, number] | undefined,
  report: ProgressReport,
): { add(bytes: number): void; finish(): void } {
  let progress: LoadProgress | undefined;
  const start = (): LoadProgress => {
    const blockCount = getCount(header.metadata, `${getString(header.metadata, 'general.architecture')}.block_count`);
    const [first, end] = layers ?? [0, blockCount];
    const tensors = layerTensors(header, first, end, { embeddings: first === 0, output: end === blockCount });
    return new LoadProgress(
      tensors.reduce((sum, tensor) => sum + tensor.byteLength, 0),
      report,
    );
  };
  return {
    add: (bytes) => (progress ??= start()).add(bytes),
    finish: () => (progress ??= start()).finish(),
  };
}

function stringMetadata(header: GGUFHeader, key: string): string | undefined {
  const value = header.metadata.get(key);
  return typeof value === 'string' ? value : undefined;
}
