// The engine as the rest of Tessera sees it: a model (or a layer range of one) loaded into its
// own worker thread. The main thread only posts requests and relays replies, so it never blocks
// on compute. Requests run one at a time, in order.
//
//   const engine = await Engine.load({ path: 'model.gguf' });
//   for await (const event of engine.generate({ prompt, maxTokens: 64 })) …
//   await engine.close();
//
// A shard in a pipeline (the mesh) uses `forwardShard` instead: token ids (first shard) or hidden
// states in, hidden states or logits out.

import type { Worker } from 'node:worker_threads';
import { TesseraError, type ErrorCode } from '../../shared/errors.js';
import { spawnWorker, workerEntry } from './worker/spawn.js';
import type {
  EmbeddingResult,
  EngineReply,
  EngineRequest,
  ForwardOutput,
  GenerateEvent,
  ModelInfo,
  WorkerGenerateRequest,
  WorkerLoadOptions,
} from './worker/protocol.js';

export type EngineLoadOptions = WorkerLoadOptions;

/** Callbacks of Engine.load; kept apart from EngineLoadOptions, which cross to the thread as data. */
export interface EngineLoadHooks {
  /**
   * Weight bytes read so far of the shard's total (the tensors of its layer range). Called with
   * 0 when reading starts, then at most every ~100 ms or 5% of the total, growing, and last with
   * loadedBytes === totalBytes before load() resolves. Not called when the load fails first.
   */
  readonly onProgress?: (loadedBytes: number, totalBytes: number) => void;
}

export interface GenerateRequest extends WorkerGenerateRequest {
  /** Aborting ends the stream with a GENERATION_ABORTED error. */
  readonly signal?: AbortSignal;
}

export interface ForwardShardRequest {
  /** The KV cache (one per conversation); created on first use. */
  readonly sequence: string;
  /** Position of the first input row; the cache must hold every position before it. */
  readonly position: number;
  /** Token ids (first shard) or hidden states (rows of `info.dim`) from the previous shard. */
  readonly input: Int32Array | Float32Array;
  /** Last shard: logits for every row rather than only the last. */
  readonly allLogits?: boolean;
}

/** How long close() waits for the thread to finish its current request before ending it. */
export const CLOSE_TIMEOUT_MS = 5000;

type Pending = {
  onEvent?: (event: GenerateEvent) => void;
  onProgress?: (loadedBytes: number, totalBytes: number) => void;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
};

export class Engine {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private failure: TesseraError | undefined;
  private readonly exited: Promise<void>;
  /** Abort flags of the generations in flight, raised by close(). */
  private readonly abortFlags = new Set<Int32Array>();

  private constructor(
    private readonly worker: Worker,
    private modelInfo: ModelInfo | undefined,
  ) {
    worker.on('message', (message: EngineReply) => this.receive(message));
    worker.on('error', (error) => this.fail(new TesseraError('ENGINE_WORKER_FAILED', `engine thread failed: ${error.message}`, { cause: error })));
    this.exited = new Promise((resolve) => {
      worker.once('exit', () => {
        this.fail(new TesseraError('ENGINE_CLOSED', 'the engine thread has exited'));
        resolve();
      });
    });
  }

  /** Starts an engine thread and loads the model (or the layer range asked for) into it. */
  static async load(options: EngineLoadOptions, hooks: EngineLoadHooks = {}): Promise<Engine> {
    const engine = new Engine(spawnWorker(workerEntry(import.meta.url, 'worker/engine-thread')), undefined);
    try {
      engine.modelInfo = (await engine.request({ type: 'load', id: 0, options }, undefined, hooks.onProgress)) as ModelInfo;
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  get info(): ModelInfo {
    return this.modelInfo!;
  }

  /**
   * Generates from a prompt (text, tokenized with control tokens recognised: pass a rendered
   * chat template) or from token ids. Yields a `token` event per token and ends with `done`.
   * Breaking out of the loop or aborting the signal stops the thread at the next token.
   */
  async *generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    const { signal, ...workerRequest } = request;
    if (signal?.aborted) throw aborted();
    const abortFlag = new SharedArrayBuffer(4);
    const flag = new Int32Array(abortFlag);
    // Events arrive from the thread faster or slower than the consumer takes them: queue them.
    const queue: GenerateEvent[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: Error | undefined;
    const stop = (): void => {
      Atomics.store(flag, 0, 1);
      wake?.();
    };
    signal?.addEventListener('abort', stop, { once: true });
    this.abortFlags.add(flag);
    this.request({ type: 'generate', id: 0, request: workerRequest, abortFlag }, (event) => {
      queue.push(event);
      wake?.();
    }).then(
      () => {
        finished = true;
        wake?.();
      },
      (error: Error) => {
        failure = error;
        finished = true;
        wake?.();
      },
    );
    try {
      for (;;) {
        if (signal?.aborted) throw aborted();
        if (queue.length > 0) {
          yield queue.shift()!;
          continue;
        }
        if (failure) throw failure;
        if (finished) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      // Also reached when the consumer breaks out early: tell the thread to stop.
      Atomics.store(flag, 0, 1);
      this.abortFlags.delete(flag);
      signal?.removeEventListener('abort', stop);
    }
  }

  /** One pipeline step of this shard; see ForwardShardRequest. */
  async forwardShard(request: ForwardShardRequest): Promise<ForwardOutput> {
    return (await this.request({
      type: 'forward',
      id: 0,
      sequence: request.sequence,
      position: request.position,
      input: request.input,
      allLogits: request.allLogits ?? false,
    })) as ForwardOutput;
  }

  async tokenize(text: string, options: { addBos?: boolean; parseSpecial?: boolean } = {}): Promise<number[]> {
    return (await this.request({ type: 'tokenize', id: 0, text, ...options })) as number[];
  }

  async detokenize(tokens: readonly number[], options: { special?: boolean } = {}): Promise<string> {
    return (await this.request({ type: 'detokenize', id: 0, tokens, ...options })) as string;
  }

  /** Pooled embeddings, one per input (`info.pooling` must be set); see worker/embedding.ts. */
  async embed(inputs: readonly (string | readonly number[])[]): Promise<EmbeddingResult> {
    return (await this.request({ type: 'embed', id: 0, inputs })) as EmbeddingResult;
  }

  /** Frees a sequence's KV cache. */
  async dropSequence(sequence: string): Promise<void> {
    await this.request({ type: 'drop-sequence', id: 0, sequence });
  }

  /** Frees the model and ends the thread (and the backend's threads). Safe to call twice. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      for (const flag of this.abortFlags) Atomics.store(flag, 0, 1);
      const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
      try {
        if (this.failure === undefined) {
          this.post({ type: 'close', id: this.nextId++ });
        } else {
          await this.worker.terminate();
        }
        await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    await this.exited;
  }

  private request(
    message: EngineRequest,
    onEvent?: (event: GenerateEvent) => void,
    onProgress?: (loadedBytes: number, totalBytes: number) => void,
  ): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new TesseraError('ENGINE_CLOSED', 'the engine is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { onEvent, onProgress, resolve, reject });
      this.post({ ...message, id });
    });
  }

  private post(message: EngineRequest): void {
    this.worker.postMessage(message);
  }

  private receive(message: EngineReply): void {
    const pending = this.pending.get(message.id);
    if (pending === undefined) return; // the close acknowledgement, or a reply nobody waits for
    switch (message.type) {
      case 'event':
        pending.onEvent?.(message.event);
        return;
      case 'load-progress':
        try {
          pending.onProgress?.(message.loadedBytes, message.totalBytes);
        } catch {
          // A progress display that fails must not fail the load (nor throw into the worker's event loop).
        }
        return;
      case 'loaded':
        this.pending.delete(message.id);
        pending.resolve(message.info);
        return;
      case 'result':
        this.pending.delete(message.id);
        pending.resolve(message.value);
        return;
      case 'error':
        this.pending.delete(message.id);
        pending.reject(new TesseraError(message.code as ErrorCode, message.message));
        return;
      default: {
        const unknown: never = message;
        throw new TesseraError('INTERNAL', `unknown engine reply ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The thread died or exited: every waiting request fails, later ones fail at once. */
  private fail(error: TesseraError): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
  }
}

function aborted(): TesseraError {
  return new TesseraError('GENERATION_ABORTED', 'the generation was aborted');
}
