// The pipeline driver on a model's head node: the same generate() contract as a local Engine,
// with each forward step run around the ring of shards. The head sends token ids to the first
// shard, every shard runs its layers and passes hidden states (f16 or f32) on, and the head's own shard
// (the last layers, output norm and head) gives the logits the decode loop samples from. The
// per-token logic is the engine's own GenerationSteps, run here on the main thread.
import { TesseraError, isTesseraError } from '../../shared/errors.js';
import type { MeshMessage, Plan } from '../../shared/mesh-protocol.js';
import type { GenerateEvent, GenerateRequest, ModelInfo } from '../engine/index.js';
import type { Tokenizer } from '../engine/tokenizer/tokenizer.js';
import { GenerationSteps } from '../engine/worker/generation.js';
import type { RingOutput } from './shard-host.js';

/** Prompt tokens per prefill chunk: chunks flow through the ring one behind the other. */
export const PREFILL_CHUNK_TOKENS = 64;
/**
 * Longest one ring step may ever take before the request fails. Nodes that leave or freeze are
 * caught sooner by the mesh's heartbeats (PEER_TIMEOUT_MS); a shard that is connected but stuck
 * (its engine hung, its disk stalled) is caught by the step deadline below, long before this.
 */
export const PIPELINE_STEP_TIMEOUT_MS = 60_000;
/**
 * Step deadline once steps were timed: STEP_DEADLINE_FACTOR × the expected time (measured ms per
 * token × tokens in the step) + STEP_DEADLINE_MARGIN_MS, so a decode step of a few ms that has not
 * come back after ~3 s means a stalled shard, while a long prefill still gets its time.
 */
export const STEP_DEADLINE_FACTOR = 10;
export const STEP_DEADLINE_MARGIN_MS = 3_000;
/** Deadline of a plan's first step (nothing measured yet): STEP_DEADLINE_FACTOR × predicted, at least this. */
export const FIRST_STEP_DEADLINE_MS = 15_000;
/** Weight of the newest step in the ms-per-token moving average. */
const STEP_TIME_SMOOTHING = 0.2;

export interface PipelineDeployment {
  readonly planId: string;
  readonly plan: Plan;
}

export interface PipelineEngineOptions {
  readonly selfId: string;
  readonly send: (nodeId: string, message: MeshMessage) => void;
  readonly tokenizer: Tokenizer;
  /** The whole model as the API sees it (layers [0, nLayers)). */
  readonly info: ModelInfo;
  readonly deployment: PipelineDeployment;
  /** Makes a new plan over the nodes there are now and loads its shards (after a failure). */
  readonly redeploy: (previous: PipelineDeployment) => Promise<PipelineDeployment>;
  /** Unloads every shard of the model. */
  readonly release: (deployment: PipelineDeployment) => Promise<void>;
  /** Caps every step's deadline (default PIPELINE_STEP_TIMEOUT_MS). */
  readonly stepTimeoutMs?: number;
}

interface PendingStep {
  readonly step: number;
  readonly resolve: (logits: Float32Array) => void;
  readonly reject: (error: TesseraError) => void;
  /** Stops the step's deadline; the step is no longer waited for. */
  readonly abandon: () => void;
}

export class PipelineEngine {
  readonly info: ModelInfo;
  readonly #options: PipelineEngineOptions;
  #deployment: PipelineDeployment | undefined;
  /** Set when a node of the plan left or a step failed: the next request re-plans first. */
  #broken: TesseraError | undefined;
  #pending: PendingStep | undefined;
  #closed = false;
  #stepCounter = 0;
  /** Measured ring time per token of the current plan (a moving average), ms; undefined until timed. */
  #msPerToken: number | undefined;
  /** Tokens the ring's KV caches hold per sequence, to reuse a repeated prefix. */
  readonly #cached = new Map<string, number[]>();

  constructor(options: PipelineEngineOptions) {
    this.#options = options;
    this.info = options.info;
    this.#deployment = options.deployment;
  }

  get deployment(): PipelineDeployment | undefined {
    return this.#deployment;
  }

  /** A ring output for this model's plan reached the head. */
  deliver(output: RingOutput): void {
    if (output.planId !== this.#deployment?.planId || output.chunk !== output.chunks - 1) return;
    if (this.#pending?.step !== output.step) return; // the output of a step that was given up
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.resolve(output.logits);
  }

  /** A shard failed, or a node of the plan left: the step in flight fails and the plan is dropped. */
  fail(error: TesseraError): void {
    this.#broken ??= error;
    this.#cached.clear();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  /** Gives up step `step` if it is still waited for (no other step is touched). */
  #abandon(step: number): void {
    if (this.#pending?.step !== step) return;
    const pending = this.#pending;
    this.#pending = undefined;
    pending.abandon();
  }

  involves(nodeId: string): boolean {
    return this.#deployment?.plan.shards.some((shard) => shard.nodeId === nodeId) ?? false;
  }

  async *generate(request: GenerateRequest): AsyncGenerator<GenerateEvent> {
    const { signal, ...generation } = request;
    if (signal?.aborted) throw aborted();
    if (this.#closed) throw new TesseraError('ENGINE_CLOSED', 'the model was unloaded');
    const deployment = await this.#ready();
    const steps = new GenerationSteps(this.#options.tokenizer, generation, this.info.contextLength);
    if (steps.prompt.length > this.info.contextLength) {
      throw new TesseraError('CONTEXT_OVERFLOW', `the prompt has ${steps.prompt.length} tokens, more than the context of ${this.info.contextLength}`);
    }
    const onAbort = () => this.fail(aborted());
    signal?.addEventListener('abort', onAbort, { once: true });
    let inFlight: number | undefined; // the step sent ahead of a yield, until its logits came
    try {
      const cached = this.#cached.get(steps.sequence) ?? [];
      let common = 0;
      while (common < steps.prompt.length && common < cached.length && cached[common] === steps.prompt[common]) common++;
      if (common === steps.prompt.length) common--; // the last prompt token's logits are needed again
      const history = Array.from(steps.prompt.subarray(0, common));
      this.#cached.set(steps.sequence, history);

      const started = performance.now();
      let logits = await this.#step(deployment, steps.sequence, steps.prompt.subarray(common), common);
      history.push(...steps.prompt.subarray(common));
      const prefillMs = performance.now() - started;
      const decodeStarted = performance.now();
      for (;;) {
        const step = steps.next(logits);
        if (step.feed === undefined) {
          if (step.event !== undefined) yield step.event;
          break;
        }
        if (signal?.aborted) throw aborted();
        // The next token goes round the ring before this one's event is handed out, so the
        // consumer's work (detokenizing, SSE writes) overlaps the ring instead of adding to it.
        const next = this.#step(deployment, steps.sequence, Int32Array.of(step.feed.token), step.feed.position);
        inFlight = this.#stepCounter;
        next.catch(() => {}); // a consumer that stops during the yield never awaits it
        if (step.event !== undefined) yield step.event;
        logits = await next;
        inFlight = undefined;
        history.push(step.feed.token);
      }
      yield steps.finish({ cachedTokens: common, prefillMs, decodeMs: performance.now() - decodeStarted });
    } catch (error) {
      this.#cached.delete(steps.sequence);
      if (signal?.aborted) throw aborted();
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A consumer that stopped while the next step ran: that step is given up (its output, when
      // it comes, is ignored), without counting as a failure of the plan.
      if (inFlight !== undefined) this.#abandon(inFlight);
      // A consumer that stops early leaves no step behind.
      if (this.#broken !== undefined && isTesseraError(this.#broken, 'GENERATION_ABORTED')) this.#broken = undefined;
    }
  }

  async tokenize(text: string, options: { addBos?: boolean; parseSpecial?: boolean } = {}): Promise<number[]> {
    return this.#options.tokenizer.encode(text, options);
  }

  async embed(): Promise<never> {
    throw new TesseraError('REQUEST_INVALID', 'embeddings are not served by a model split over the mesh');
  }

  async detokenize(tokens: readonly number[], options: { special?: boolean } = {}): Promise<string> {
    return this.#options.tokenizer.decode(tokens, options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.fail(new TesseraError('ENGINE_CLOSED', 'the model was unloaded'));
    const deployment = this.#deployment;
    this.#deployment = undefined;
    if (deployment !== undefined) await this.#options.release(deployment);
  }

  /** The current plan, re-made first when the last one broke. */
  async #ready(): Promise<PipelineDeployment> {
    if (this.#broken === undefined && this.#deployment !== undefined) return this.#deployment;
    const previous = this.#deployment;
    this.#deployment = undefined;
    if (previous !== undefined) await this.#options.release(previous).catch(() => {});
    if (previous === undefined) throw new TesseraError('ENGINE_CLOSED', 'the model has no plan');
    const next = await this.#options.redeploy(previous);
    if (this.#closed) {
      await this.#options.release(next);
      throw new TesseraError('ENGINE_CLOSED', 'the model was unloaded');
    }
    this.#deployment = next;
    this.#broken = undefined;
    this.#msPerToken = undefined; // a new ring: time it afresh
    return next;
  }

  /**
   * How long a step of `tokenCount` tokens may take before its plan counts as stalled: from the
   * measured time per token once there is one, else from the planner's prediction.
   */
  stepDeadlineMs(tokenCount: number, plan: Plan): number {
    const cap = this.#options.stepTimeoutMs ?? PIPELINE_STEP_TIMEOUT_MS;
    const deadline = this.#msPerToken === undefined
      ? Math.max(FIRST_STEP_DEADLINE_MS, STEP_DEADLINE_FACTOR * plan.predictedTokenSeconds * 1000 * tokenCount)
      : STEP_DEADLINE_FACTOR * this.#msPerToken * tokenCount + STEP_DEADLINE_MARGIN_MS;
    return Math.min(cap, deadline);
  }

  /** Runs `tokens` at `position` around the ring; resolves with the last row's logits. */
  #step(deployment: PipelineDeployment, sequenceId: string, tokens: Int32Array, position: number): Promise<Float32Array> {
    if (this.#broken !== undefined) return Promise.reject(this.#broken);
    const first = deployment.plan.shards[0]!;
    const deadlineMs = this.stepDeadlineMs(tokens.length, deployment.plan);
    return new Promise<Float32Array>((resolve, reject) => {
      const started = performance.now();
      const timer = setTimeout(
        () => this.fail(new TesseraError('PIPELINE_FAILED', `a ring step of ${tokens.length} token(s) took over ${Math.round(deadlineMs)} ms; a shard of the plan is stalled`)),
        deadlineMs,
      );
      const step = ++this.#stepCounter;
      this.#pending = {
        step,
        resolve: (logits) => {
          clearTimeout(timer);
          const sample = (performance.now() - started) / tokens.length;
          this.#msPerToken = this.#msPerToken === undefined ? sample : this.#msPerToken + STEP_TIME_SMOOTHING * (sample - this.#msPerToken);
          resolve(logits);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
        abandon: () => clearTimeout(timer),
      };
      const chunks = Math.ceil(tokens.length / PREFILL_CHUNK_TOKENS);
      try {
        for (let chunk = 0; chunk < chunks; chunk++) {
          const part = tokens.slice(chunk * PREFILL_CHUNK_TOKENS, (chunk + 1) * PREFILL_CHUNK_TOKENS);
          this.#options.send(first.nodeId, {
            type: 'tensor',
            planId: deployment.planId,
            sequenceId,
            position: position + chunk * PREFILL_CHUNK_TOKENS,
            tokenCount: part.length,
            hiddenSize: 1,
            dtype: 'i32',
            layer: first.layerStart,
            chunk,
            chunks,
            step,
            data: new Uint8Array(part.buffer, part.byteOffset, part.byteLength),
          });
        }
      } catch (error) {
        this.fail(isTesseraError(error) ? error : new TesseraError('PIPELINE_FAILED', String(error)));
      }
    });
  }
}

function aborted(): TesseraError {
  return new TesseraError('GENERATION_ABORTED', 'the generation was aborted');
}
