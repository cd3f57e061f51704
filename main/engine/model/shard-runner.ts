// A loaded shard with its run state and one KV cache per sequence. It remembers which tokens
// each cache holds, so a prompt that repeats a sequence's previous tokens (a follow-up turn of
// a conversation) only computes what is new.

import { TesseraError } from '../../../shared/errors.js';
import {
  createKvCache,
  createRunState,
  forward,
  type ForwardOptions,
  type KvCache,
  type KvCachePrecision,
  type LlamaShard,
  type RunState,
  type ShardInput,
  type ShardOutput,
} from './llama.js';

/** Marks a cache position filled from hidden states, whose token the shard never saw. */
const UNKNOWN_TOKEN = -1;

interface Sequence {
  readonly cache: KvCache;
  /** Token at each cache position 0..tokens.length-1 (UNKNOWN_TOKEN where not known). */
  tokens: number[];
  lastUsed: number;
}

export interface ShardRunnerOptions {
  /** Positions each sequence's KV cache holds. */
  readonly contextLength: number;
  /** KV caches kept at once; the least recently used is reused beyond this. */
  readonly maxSequences: number;
  readonly maxBatchTokens?: number;
  /** Precision of the KV caches (default f16 where the backend has it). */
  readonly kvCachePrecision?: KvCachePrecision;
}

export interface PrefillResult {
  /** Logits (last shard) or hidden states of the positions computed. */
  readonly output: ShardOutput;
  /** Prompt tokens whose keys and values were already in the cache. */
  readonly cachedTokens: number;
}

export class ShardRunner {
  readonly state: RunState;
  private readonly sequences = new Map<string, Sequence>();
  /** Caches of dropped sequences: backend memory is never given back, so it is reused instead. */
  private readonly spareCaches: KvCache[] = [];
  private clock = 0;

  constructor(
    readonly shard: LlamaShard,
    readonly options: ShardRunnerOptions,
  ) {
    if (!Number.isInteger(options.contextLength) || options.contextLength <= 0) {
      throw new TesseraError('REQUEST_INVALID', `context length ${options.contextLength} is not a positive integer`);
    }
    this.state = createRunState(shard, options.maxBatchTokens);
  }

  get contextLength(): number {
    return this.options.contextLength;
  }

  /**
   * The raw shard step for pipelines: runs `input` (token ids on the first shard, hidden states
   * otherwise) at positions from `position` in `sequence`'s cache. Whatever the cache held at
   * and after `position` is forgotten.
   */
  forward(sequence: string, input: ShardInput, position: number, options: ForwardOptions = {}): ShardOutput {
    const seq = this.sequence(sequence);
    // Forget first: if the step fails half way, the cache no longer matches what it held.
    seq.tokens = seq.tokens.slice(0, Math.min(position, seq.tokens.length));
    const output = forward(this.shard, this.state, seq.cache, input, position, options);
    while (seq.tokens.length < position) seq.tokens.push(UNKNOWN_TOKEN);
    if (input instanceof Int32Array) seq.tokens.push(...input);
    else for (let i = 0; i < input.length / this.shard.config.dim; i++) seq.tokens.push(UNKNOWN_TOKEN);
    return output;
  }

  /**
   * Runs a whole prompt (first shard: token ids) in `sequence`, reusing the longest prefix
   * the cache already holds. Always computes at least the last token, whose output is returned.
   */
  prefill(sequence: string, tokens: Int32Array): PrefillResult {
    if (tokens.length > this.contextLength) {
      throw new TesseraError(
        'CONTEXT_OVERFLOW',
        `the prompt has ${tokens.length} tokens, more than the context of ${this.contextLength}`,
      );
    }
    const seq = this.sequence(sequence);
    let common = 0;
    while (common < tokens.length && common < seq.tokens.length && seq.tokens[common] === tokens[common]) common++;
    if (common === tokens.length) common--; // the last prompt token's logits are needed again
    const output = this.forward(sequence, tokens.subarray(common), common);
    return { output, cachedTokens: common };
  }

  /** Tokens the sequence's cache holds, in order. */
  cachedTokens(sequence: string): readonly number[] {
    return this.sequences.get(sequence)?.tokens ?? [];
  }

  dropSequence(sequence: string): void {
    const dropped = this.sequences.get(sequence);
    if (dropped === undefined) return;
    this.sequences.delete(sequence);
    this.spareCaches.push(dropped.cache);
  }

  private sequence(name: string): Sequence {
    let seq = this.sequences.get(name);
    if (seq === undefined) {
      if (this.sequences.size >= this.options.maxSequences) {
        // Take over the least recently used cache instead of allocating another.
        const [oldestName, oldest] = [...this.sequences].reduce((a, b) => (b[1].lastUsed < a[1].lastUsed ? b : a));
        this.sequences.delete(oldestName);
        seq = { cache: oldest.cache, tokens: [], lastUsed: 0 };
      } else {
        const cache = this.spareCaches.pop() ?? createKvCache(this.shard, this.contextLength, this.options.kvCachePrecision);
        seq = { cache, tokens: [], lastUsed: 0 };
      }
      this.sequences.set(name, seq);
    }
    seq.lastUsed = ++this.clock;
    return seq;
  }
}
