// A model split into layer ranges that all run on this machine, one engine per range, chained
// with forwardShard: the same generate() contract as a whole-model Engine. `tessera run
// --layers a:b` uses it to show (and check) that shards give the whole model's output.

import { TesseraError } from '../../shared/errors.js';
import { Engine, type EngineLoadOptions, type GenerateRequest } from './engine.js';
import { readModelHeader } from './gguf/model-files.js';
import { Tokenizer } from './tokenizer/tokenizer.js';
import { GenerationSteps } from './worker/generation.js';
import type { GenerateEvent, ModelInfo } from './worker/protocol.js';

export class LocalPipeline {
  private constructor(
    readonly shards: readonly Engine[],
    private readonly tokenizer: Tokenizer,
  ) {}

  /** Loads one engine per range; `boundaries` are the layers where one range ends and the next begins. */
  static async load(options: Omit<EngineLoadOptions, 'layers'>, boundaries: readonly number[]): Promise<LocalPipeline> {
    const header = await readModelHeader(options.path); // a whole file or any part of a split one
    const tokenizer = new Tokenizer(header.metadata);
    const shards: Engine[] = [];
    try {
      let start = 0;
      for (const end of boundaries) {
        shards.push(await Engine.load({ ...options, layers: [start, end] }));
        start = end;
      }
      const nLayers = shards[0]!.info.nLayers;
      if (start !== nLayers) shards.push(await Engine.load({ ...options, layers: [start, nLayers] }));
    } catch (error) {
      await Promise.allSettled(shards.map((shard) => shard.close()));
      throw error;
    }
    return new LocalPipeline(shards, tokenizer);
  }

  /** The whole model as a caller sees it. */
  get info(): ModelInfo {
    const first = this.shards[0]!.info;
    const last = this.shards[this.shards.length - 1]!.info;
    return { ...last, layers: [0, last.nLayers], isFirst: true, isLast: true, chatTemplate: first.chatTemplate ?? last.chatTemplate };
  }

  async *generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    const steps = new GenerationSteps(this.tokenizer, request, this.info.contextLength);
    if (steps.prompt.length > this.info.contextLength) {
      throw new TesseraError('CONTEXT_OVERFLOW', `the prompt has ${steps.prompt.length} tokens, more than the context of ${this.info.contextLength}`);
    }
    const prefillStarted = performance.now();
    let logits = await this.step(steps.sequence, steps.prompt, 0);
    const prefillMs = performance.now() - prefillStarted;
    const decodeStarted = performance.now();
    for (;;) {
      if (request.signal?.aborted) throw new TesseraError('GENERATION_ABORTED', 'generation was aborted');
      const step = steps.next(logits);
      if (step.event !== undefined) yield step.event;
      if (step.feed === undefined) break;
      logits = await this.step(steps.sequence, Int32Array.of(step.feed.token), step.feed.position);
    }
    yield steps.finish({ cachedTokens: 0, prefillMs, decodeMs: performance.now() - decodeStarted });
  }

  close(): Promise<void> {
    return Promise.allSettled(this.shards.map((shard) => shard.close())).then(() => undefined);
  }

  /** Tokens in at the first shard, hidden states through the middle ones, logits of the last row out. */
  private async step(sequence: string, tokens: Int32Array, position: number): Promise<Float32Array> {
    let input: Int32Array | Float32Array = tokens;
    for (const shard of this.shards) input = (await shard.forwardShard({ sequence, position, input })).data;
    const vocabulary = this.info.vocabSize;
    return input.subarray(input.length - vocabulary) as Float32Array;
  }
}
