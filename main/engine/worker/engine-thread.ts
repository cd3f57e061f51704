// The engine thread: owns one model shard, its backend and KV caches, and answers the main
// thread's requests one at a time (protocol.ts). Compute blocks this thread, never the main one.

import { parentPort } from 'node:worker_threads';
import { open, type FileHandle } from 'node:fs/promises';
import { isTesseraError, TesseraError } from '../../../shared/errors.js';
import type { ComputeBackend } from '../backend.js';
import { readGGUFHeader, readTensorBytes } from '../gguf/reader.js';
import type { GGUFHeader } from '../gguf/types.js';
import { createBackend } from '../model/backends.js';
import { loadShard } from '../model/llama.js';
import { ShardRunner } from '../model/shard-runner.js';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { generate } from './generation.js';
import { Embedder, poolingTypeOf } from './embedding.js';
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
      const { info, model } = await load(request.options);
      loaded = model;
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
      const output = need().runner.forward(request.sequence, request.input, request.position, request.allLogits);
      reply({ type: 'result', id: request.id, value: output });
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

async function load(options: WorkerLoadOptions): Promise<{ info: Omit<ModelInfo, 'loadMs'>; model: Loaded }> {
  let file: FileHandle;
  try {
    file = await open(options.path, 'r');
  } catch (cause) {
    throw new TesseraError('MODEL_NOT_FOUND', `cannot open model file ${options.path}`, { cause });
  }
  let backend: ComputeBackend | undefined;
  try {
    // The kernel threads start while the header is read: both take a good part of a second.
    const starting = createBackend({ kind: options.backend, threads: options.threads });
    const [headerResult, backendResult] = await Promise.allSettled([readGGUFHeader(file), starting]);
    if (backendResult.status === 'fulfilled') backend = backendResult.value;
    if (headerResult.status === 'rejected') throw headerResult.reason;
    if (backendResult.status === 'rejected') throw backendResult.reason;
    const header = headerResult.value;
    const compute = backendResult.value;
    const shard = await loadShard({
      header,
      backend: compute,
      layers: options.layers,
      readTensor: (tensor) => readTensorBytes(file, tensor),
      readTensorRange: (tensor, byteOffset, target) => readFully(file, tensor.offset + byteOffset, target),
    });
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
    await file.close();
  }
}

/** Fills `target` from the file at `position`; a short read (a truncated file) is an error. */
async function readFully(file: FileHandle, position: number, target: Uint8Array): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await file.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new TesseraError('GGUF_TRUNCATED', `the file ends before byte ${position + target.length}`);
    done += bytesRead;
  }
}

function stringMetadata(header: GGUFHeader, key: string): string | undefined {
  const value = header.metadata.get(key);
  return typeof value === 'string' ? value : undefined;
}
