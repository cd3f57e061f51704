// Messages between the main-thread `Engine` and its engine thread. Every request carries an
// id; the thread answers it with exactly one final reply (`loaded`, `result`, `done` or `error`),
// after any number of `event` replies for a generation.

import type { ErrorCode } from '../../../shared/errors.js';
import type { BackendKind } from '../model/backends.js';
import type { SamplingParams } from '../sampling/sampler.js';
import type { Grammar } from '../sampling/grammar/grammar.js';
import type { EmbeddingResult, PoolingType } from './embedding.js';

export type { BackendKind } from '../model/backends.js';
export type { EmbeddingResult, PoolingType } from './embedding.js';

export interface WorkerLoadOptions {
  readonly path: string;
  /** [start, end) of the layers to run; the whole model when absent. */
  readonly layers?: readonly [number, number];
  readonly threads?: number;
  readonly contextLength?: number;
  readonly maxSequences?: number;
  readonly maxBatchTokens?: number;
  readonly backend?: BackendKind;
}

/** What a loaded engine runs. */
export interface ModelInfo {
  readonly path: string;
  /** `general.name` when the file has one. */
  readonly name?: string;
  readonly architecture: string;
  /** [start, end) of the layers this engine runs. */
  readonly layers: readonly [number, number];
  /** Layers in the whole model. */
  readonly nLayers: number;
  /** Width of the hidden states a shard takes in and gives out. */
  readonly dim: number;
  readonly vocabSize: number;
  /** Positions each sequence's KV cache holds. */
  readonly contextLength: number;
  /** The context the model was trained for. */
  readonly trainedContextLength: number;
  /** Embeds tokens (layer 0 is in range). */
  readonly isFirst: boolean;
  /** Produces logits (the last layer is in range). */
  readonly isLast: boolean;
  /** `tokenizer.chat_template` when the file has one. */
  readonly chatTemplate?: string;
  readonly bosToken?: string;
  readonly eosToken?: string;
  /** An embedding model's pooling (`<arch>.pooling_type`); absent for a chat model. */
  readonly pooling?: PoolingType;
  readonly backend: string;
  readonly threads: number;
  /** Time to read the weights and set up, in milliseconds. */
  readonly loadMs: number;
}

export interface WorkerGenerateRequest {
  /** Text to tokenize (control-token text such as `<|im_start|>` becomes its token), or… */
  readonly prompt?: string;
  /** …token ids used as they are. */
  readonly tokens?: readonly number[];
  /** Put BOS first when the prompt is text (default: the model's add_bos_token; never doubled). */
  readonly addBos?: boolean;
  /** The KV cache to use; its previous tokens are reused where the prompt starts with them. */
  readonly sequence?: string;
  /** Defaults as in SamplingParams (temperature 1); `{ temperature: 0 }` is greedy. */
  readonly sampling?: SamplingParams;
  /** Default: until the context is full. */
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  /** Output must be a sentence of this grammar (forced tool calls, JSON output); it ends when complete. */
  readonly grammar?: Grammar;
  /**
   * Control tokens whose text the output keeps (e.g. `[TOOL_CALLS]`, `<|python_tag|>`, which
   * tool-call parsers read); other control tokens add no text.
   */
  readonly keepControlTokens?: readonly string[];
}

/** A generated token's log-probability and the most likely alternatives (OpenAI logprobs). */
export interface TokenLogprobs {
  /** The token's own text (may be part of a UTF-8 character: see `bytes`). */
  readonly text: string;
  readonly bytes: readonly number[];
  readonly logprob: number;
  readonly top: readonly { readonly text: string; readonly bytes: readonly number[]; readonly logprob: number }[];
}

export type FinishReason =
  /** An end-of-generation token or a stop sequence. */
  | 'stop'
  /** maxTokens reached, or the context is full. */
  | 'length';

export interface GenerationUsage {
  readonly promptTokens: number;
  /** Prompt tokens whose keys and values were reused from the sequence's previous request. */
  readonly cachedPromptTokens: number;
  readonly completionTokens: number;
}

export interface GenerationTiming {
  /** Computing the prompt (the tokens not reused) and its first logits. */
  readonly prefillMs: number;
  /** Every later token. */
  readonly decodeMs: number;
  readonly prefillTokensPerSecond: number;
  readonly decodeTokensPerSecond: number;
}

export type GenerateEvent =
  /** One generated token; `text` is what it adds (may be '' while a UTF-8 character or a possible stop is incomplete). */
  | { readonly type: 'token'; readonly token: number; readonly text: string; readonly logprobs?: TokenLogprobs }
  | {
      readonly type: 'done';
      readonly finishReason: FinishReason;
      /** The stop sequence that ended generation, if one did. */
      readonly stopSequence?: string;
      /** Text held back at the end (part of a possible stop sequence that never completed). */
      readonly text: string;
      readonly usage: GenerationUsage;
      readonly timing: GenerationTiming;
    };

export type ForwardOutput = { readonly kind: 'logits' | 'hidden'; readonly rows: number; readonly data: Float32Array };

export type EngineRequest =
  | { readonly type: 'load'; readonly id: number; readonly options: WorkerLoadOptions }
  | {
      readonly type: 'generate';
      readonly id: number;
      readonly request: WorkerGenerateRequest;
      /** An Int32 set to 1 by the main thread to abort; read between tokens. */
      readonly abortFlag: SharedArrayBuffer;
    }
  | {
      readonly type: 'forward';
      readonly id: number;
      readonly sequence: string;
      readonly position: number;
      readonly input: Int32Array | Float32Array;
      readonly allLogits: boolean;
    }
  | { readonly type: 'tokenize'; readonly id: number; readonly text: string; readonly addBos?: boolean; readonly parseSpecial?: boolean }
  | { readonly type: 'detokenize'; readonly id: number; readonly tokens: readonly number[]; readonly special?: boolean }
  | { readonly type: 'drop-sequence'; readonly id: number; readonly sequence: string }
  /** Pooled embeddings of texts or token ids (models with a pooling type only). */
  | { readonly type: 'embed'; readonly id: number; readonly inputs: readonly (string | readonly number[])[] }
  | { readonly type: 'close'; readonly id: number };

export type EngineReply =
  | { readonly type: 'loaded'; readonly id: number; readonly info: ModelInfo }
  /**
   * While a `load` reads weights: bytes of tensor data read so far of the shard's total. Sent
   * first at 0, then at most every LOAD_PROGRESS_INTERVAL_MS or LOAD_PROGRESS_STEP of the
   * total, and last at totalBytes just before `loaded`.
   */
  | { readonly type: 'load-progress'; readonly id: number; readonly loadedBytes: number; readonly totalBytes: number }
  | { readonly type: 'event'; readonly id: number; readonly event: GenerateEvent }
  | { readonly type: 'result'; readonly id: number; readonly value: ForwardOutput | EmbeddingResult | number[] | string | null }
  | { readonly type: 'error'; readonly id: number; readonly code: ErrorCode; readonly message: string };
