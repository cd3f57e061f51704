// A model served by another node (its plan's head), as this node's API sees it: generate()
// forwards the request over the mesh and yields the events the head sends back. So a client may
// point at any node of the cluster; the chat template, tool-call parsing and the OpenAI shapes
// still run here, only the engine is remote.
import { randomUUID } from 'node:crypto';
import { TesseraError, isTesseraError, type ErrorCode } from '../../shared/errors.js';
import type { MeshMessage, ServedModelInfo } from '../../shared/mesh-protocol.js';
import type { GenerateEvent, GenerateRequest, ModelInfo } from '../engine/index.js';

/** Longest silence from the head during a forwarded generation before it is given up. */
export const REMOTE_GENERATION_IDLE_MS = 90_000;

interface Stream {
  readonly headNodeId: string;
  push(event: GenerateEvent): void;
  fail(error: TesseraError): void;
}

/** The forwarded generations in flight on this node, by request id. */
export class RemoteGenerations {
  readonly #streams = new Map<string, Stream>();

  constructor(private readonly send: (nodeId: string, message: MeshMessage) => void) {}

  /** Takes generate-event and error replies; returns false for other messages. */
  handle(from: string, message: MeshMessage): boolean {
    if (message.type === 'generate-event') {
      const stream = this.#streams.get(message.requestId);
      if (stream?.headNodeId === from) stream.push(message.event as GenerateEvent);
      return true;
    }
    if (message.type === 'error' && message.sequenceId !== undefined) {
      const stream = this.#streams.get(message.sequenceId);
      if (stream?.headNodeId !== from) return false;
      stream.fail(new TesseraError(message.code as ErrorCode, message.message));
      return true;
    }
    return false;
  }

  /** A head left: its forwarded generations end with its error. */
  peerLeft(nodeId: string, error: TesseraError): void {
    for (const stream of this.#streams.values()) {
      if (stream.headNodeId === nodeId) stream.fail(new TesseraError('PEER_UNREACHABLE', `the model's head node left: ${error.message}`));
    }
  }

  engine(modelId: string, headNodeId: string, info: ServedModelInfo): RemoteEngine {
    return new RemoteEngine(this, modelId, headNodeId, info as ModelInfo);
  }

  /** @internal used by RemoteEngine */
  async *run(modelId: string, headNodeId: string, request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    const { signal, ...forwarded } = request;
    if (signal?.aborted) throw aborted();
    const requestId = randomUUID();
    const queue: GenerateEvent[] = [];
    let failure: TesseraError | undefined;
    let wake: (() => void) | undefined;
    const stream: Stream = {
      headNodeId,
      push: (event) => {
        queue.push(event);
        wake?.();
      },
      fail: (error) => {
        failure ??= error;
        wake?.();
      },
    };
    this.#streams.set(requestId, stream);
    const onAbort = () => stream.fail(aborted());
    signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      this.send(headNodeId, { type: 'generate', requestId, modelId, request: forwarded as Record<string, unknown> });
      for (;;) {
        if (queue.length > 0) {
          const event = queue.shift()!;
          if (event.type === 'done') finished = true;
          yield event;
          if (finished) return;
          continue;
        }
        if (failure) throw failure;
        const idle = setTimeout(() => stream.fail(new TesseraError('PIPELINE_FAILED', `the head node sent nothing for ${REMOTE_GENERATION_IDLE_MS} ms`)), REMOTE_GENERATION_IDLE_MS);
        await new Promise<void>((resolve) => (wake = resolve));
        clearTimeout(idle);
        wake = undefined;
      }
    } finally {
      this.#streams.delete(requestId);
      signal?.removeEventListener('abort', onAbort);
      if (!finished && !(failure && isTesseraError(failure, 'PEER_UNREACHABLE'))) {
        try {
          this.send(headNodeId, { type: 'generate-cancel', requestId });
        } catch {
          // the head is gone: nothing runs there any more
        }
      }
    }
  }
}

export class RemoteEngine {
  constructor(
    private readonly generations: RemoteGenerations,
    readonly modelId: string,
    readonly headNodeId: string,
    readonly info: ModelInfo,
  ) {}

  generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    return this.generations.run(this.modelId, this.headNodeId, request);
  }

  async tokenize(): Promise<number[]> {
    throw new TesseraError('REQUEST_INVALID', `model ${this.modelId} runs on another node; tokenize on its head node`);
  }

  async embed(): Promise<never> {
    throw new TesseraError('REQUEST_INVALID', `model ${this.modelId} runs on another node; ask its head node for embeddings`);
  }

  /** Nothing runs here; the head unloads the model. */
  async close(): Promise<void> {}
}

function aborted(): TesseraError {
  return new TesseraError('GENERATION_ABORTED', 'the generation was aborted');
}
