// The shards this node runs for plans of the cluster, and the ring step through them: a tensor
// for plan P arrives (token ids from the head, or hidden states from the previous shard), the
// local shard engine runs it, and the output goes on to the next node of P's ring. The head's own
// shard (the last) yields logits, which go to the local pipeline driver instead of the network.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { TesseraError, isTesseraError } from '../../shared/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { MESH_FEATURES, type MeshMessage, type MeshMessageOf, type Plan, type ShardAssignment } from '../../shared/mesh-protocol.js';
import { Engine, type EngineLoadOptions } from '../engine/index.js';
import { decodeHalf, encodeHalf } from './half-float.js';

/** How the host talks to the mesh (the Mesh itself, or a test double of its send). */
export interface ShardHostMesh {
  readonly nodeId: string;
  send(nodeId: string, message: MeshMessage): void;
  /** Whether a peer announced an ability (MESH_FEATURES); absent: none did. */
  peerSupports?(nodeId: string, feature: string): boolean;
  /** Bytes waiting in the link to a peer (backpressure); absent: never waits. */
  bufferedBytes?(nodeId: string): number;
}

/**
 * A shard holds its next output while this many bytes wait in the link to the next node, so a long
 * prompt's hidden states queue in order here instead of piling up in the socket (8 MiB: a few
 * prefill chunks of a large model).
 */
export const TENSOR_BUFFERED_LIMIT_BYTES = 8 * 1024 * 1024;
/** How often a held output looks at the link again. */
const DRAIN_POLL_MS = 1;
/** Least time between two `shard-status` progress messages of one load to its head (ms). */
export const SHARD_PROGRESS_INTERVAL_MS = 200;

/** Told the weight bytes loaded so far and in all while a shard's engine loads. */
export type ShardLoadProgress = (loadedBytes: number, totalBytes: number) => void;

export interface ShardHostOptions {
  /** `<dataDir>/models/<modelId>.gguf` is where a peer looks for a model it was not given a path for. */
  dataDir: string;
  threads?: number;
  /**
   * Gets the file for a shard this node lacks from the node that asked for it (its head), and
   * returns where it put it. Absent: a missing file fails the load.
   */
  fetchModelFile?: (from: string, request: MeshMessageOf<'shard-load'>) => Promise<string>;
  /**
   * Hidden states to the next node: 'f16' (the default) halves the bytes per hop and is used only
   * towards a node that announced MESH_FEATURES.tensorF16; 'f32' always sends full precision.
   */
  hiddenStateDtype?: 'f16' | 'f32';
  /** Starts a shard's engine, passing on its load progress (default: `Engine.load`, no progress). */
  loadEngine?: (options: EngineLoadOptions, onProgress?: ShardLoadProgress) => Promise<Engine>;
  /**
   * Called once per ring step that ran through this node's shard (the step's last chunk): one token
   * the pipeline produced, for the node's live tokens/s.
   */
  onStepDone?: (planId: string) => void;
  /** Each step of a shard load asked for by a peer, as it is reported to that peer (for this node's own UI). */
  onPeerLoad?: (report: PeerLoadReport) => void;
}

/** A shard load this node runs for another node's plan. */
export interface PeerLoadReport {
  planId: string;
  modelId: string;
  state: 'loading' | 'ready' | 'failed';
  loadedBytes?: number;
  totalBytes?: number;
  error?: string;
}

/** Where a shard fetched from a peer is kept: `<dataDir>/models/<modelId>.layers-<start>-<end>.gguf`. */
export function fetchedShardPath(dataDir: string, modelId: string, layerStart: number, layerEnd: number): string {
  return join(dataDir, 'models', `${modelId}.layers-${layerStart}-${layerEnd}.gguf`);
}

/** Logits of the last row of a step that ran through the whole ring, for the head's driver. */
export interface RingOutput {
  planId: string;
  sequenceId: string;
  chunk: number;
  chunks: number;
  step: number;
  logits: Float32Array;
}

interface LocalShard {
  readonly planId: string;
  readonly plan: Plan;
  readonly assignment: ShardAssignment;
  readonly engine: Engine;
  /** Outputs leave in the order their inputs came, each after the link has room for it. */
  sending: Promise<void>;
}

export class ShardHost {
  readonly #mesh: ShardHostMesh;
  readonly #options: ShardHostOptions;
  readonly #plans = new Map<string, { plan: Plan; modelId: string }>();
  readonly #shards = new Map<string, LocalShard>();
  /** Listeners of the head's ring outputs and of failures reported for a sequence. */
  #onOutput: ((output: RingOutput) => void) | undefined;
  #onError: ((planId: string | undefined, sequenceId: string | undefined, error: TesseraError) => void) | undefined;

  constructor(mesh: ShardHostMesh, options: ShardHostOptions) {
    this.#mesh = mesh;
    this.#options = options;
  }

  onOutput(listener: (output: RingOutput) => void): void {
    this.#onOutput = listener;
  }

  onError(listener: (planId: string | undefined, sequenceId: string | undefined, error: TesseraError) => void): void {
    this.#onError = listener;
  }

  /** Shards this node runs now: plan id, model, layers. */
  shards(): Array<{ planId: string; modelId: string; layerStart: number; layerEnd: number }> {
    return [...this.#shards.values()].map((shard) => ({
      planId: shard.planId,
      modelId: this.#plans.get(shard.planId)?.modelId ?? '',
      layerStart: shard.assignment.layerStart,
      layerEnd: shard.assignment.layerEnd,
    }));
  }

  plans(): Array<{ planId: string; modelId: string; plan: Plan }> {
    return [...this.#plans].map(([planId, { plan, modelId }]) => ({ planId, modelId, plan }));
  }

  localEngine(planId: string): Engine | undefined {
    return this.#shards.get(planId)?.engine;
  }

  /** Records a plan and loads this node's part of it. */
  async load(
    planId: string,
    modelId: string,
    plan: Plan,
    path: string,
    options: Omit<EngineLoadOptions, 'path' | 'layers'> = {},
    onProgress?: ShardLoadProgress,
  ): Promise<Engine> {
    const assignment = plan.shards.find((shard) => shard.nodeId === this.#mesh.nodeId);
    if (assignment === undefined) throw new TesseraError('SHARD_LOAD_FAILED', `plan ${planId} gives this node no layers`);
    this.#plans.set(planId, { plan, modelId });
    await this.unload(planId, { keepPlan: true });
    const engineOptions: EngineLoadOptions = {
      ...(this.#options.threads === undefined ? {} : { threads: this.#options.threads }),
      ...options,
      path,
      layers: [assignment.layerStart, assignment.layerEnd],
    };
    const engine = this.#options.loadEngine === undefined ? await Engine.load(engineOptions) : await this.#options.loadEngine(engineOptions, onProgress);
    if (!this.#plans.has(planId)) {
      await engine.close(); // unloaded while loading
      throw new TesseraError('SHARD_LOAD_FAILED', `plan ${planId} was withdrawn while its shard loaded`);
    }
    this.#shards.set(planId, { planId, plan, assignment, engine, sending: Promise.resolve() });
    return engine;
  }

  async unload(planId: string, { keepPlan = false } = {}): Promise<void> {
    if (!keepPlan) this.#plans.delete(planId);
    const shard = this.#shards.get(planId);
    if (shard === undefined) return;
    this.#shards.delete(planId);
    await shard.engine.close();
  }

  async closeAll(): Promise<void> {
    const ids = [...this.#shards.keys()];
    this.#plans.clear();
    await Promise.allSettled(ids.map((id) => this.unload(id)));
  }

  /** Frees every shard of a plan that involves `nodeId` (it left: the plan is broken). */
  async dropPlansWith(nodeId: string): Promise<void> {
    const broken = [...this.#plans].filter(([, { plan }]) => plan.shards.some((shard) => shard.nodeId === nodeId)).map(([id]) => id);
    await Promise.allSettled(broken.map((id) => this.unload(id)));
  }

  /** Handles the shard messages a peer sends; returns false for any other message. */
  handle(from: string, message: MeshMessage): boolean {
    switch (message.type) {
      case 'plan':
        this.#plans.set(message.planId, { plan: message.plan, modelId: message.modelId });
        return true;
      case 'shard-load':
        void this.#loadForPeer(from, message);
        return true;
      case 'shard-unload':
        void this.unload(message.planId);
        return true;
      case 'tensor':
        this.step(message);
        return true;
      default:
        return false;
    }
  }

  /**
   * Runs one chunk of a ring step on this node's shard and passes the output on. Called for
   * tensors from peers and, on the head, for the head's own first send when it is also shards[0].
   */
  step(message: MeshMessageOf<'tensor'>): void {
    const shard = this.#shards.get(message.planId);
    const head = this.#plans.get(message.planId)?.plan.headNodeId;
    if (shard === undefined || shard.assignment.layerStart !== message.layer) {
      this.#fail(head, message, new TesseraError('PIPELINE_FAILED', `node ${this.#mesh.nodeId} holds no shard of plan ${message.planId} at layer ${message.layer}`));
      return;
    }
    const input = message.dtype === 'i32'
      ? new Int32Array(message.data.buffer, message.data.byteOffset, message.data.byteLength / 4)
      : message.dtype === 'f16'
        ? decodeHalf(message.data)
        : new Float32Array(message.data.buffer, message.data.byteOffset, message.data.byteLength / 4);
    // Forward requests are posted to the engine thread at once, so chunks run in arrival order;
    // their outputs go out through one chain per shard, so they leave in that order too.
    const computed = shard.engine.forwardShard({ sequence: message.sequenceId, position: message.position, input });
    const sent = shard.sending.then(() => computed).then(
      async (output) => {
        if (message.chunk === message.chunks - 1) this.#options.onStepDone?.(message.planId);
        const index = shard.plan.shards.indexOf(shard.assignment);
        const next = shard.plan.shards[index + 1];
        if (output.kind === 'logits') {
          const vocab = output.data.length / output.rows;
          this.#onOutput?.({
            planId: message.planId,
            sequenceId: message.sequenceId,
            chunk: message.chunk,
            chunks: message.chunks,
            step: message.step,
            logits: output.data.subarray((output.rows - 1) * vocab),
          });
          return;
        }
        if (next === undefined) throw new TesseraError('PIPELINE_FAILED', 'the last shard of a ring gave hidden states');
        await this.#roomOn(next.nodeId);
        const half = this.#options.hiddenStateDtype !== 'f32' && this.#mesh.peerSupports?.(next.nodeId, MESH_FEATURES.tensorF16) === true;
        this.#mesh.send(next.nodeId, {
          type: 'tensor',
          planId: message.planId,
          sequenceId: message.sequenceId,
          position: message.position,
          tokenCount: output.rows,
          hiddenSize: output.data.length / output.rows,
          dtype: half ? 'f16' : 'f32',
          layer: next.layerStart,
          chunk: message.chunk,
          chunks: message.chunks,
          step: message.step,
          data: half ? encodeHalf(output.data) : new Uint8Array(output.data.buffer, output.data.byteOffset, output.data.byteLength),
        });
      },
    ).catch((error: unknown) => {
      const failure = isTesseraError(error) ? error : new TesseraError('PIPELINE_FAILED', String(error));
      this.#fail(head, message, failure);
    });
    shard.sending = sent;
  }

  /** Waits while the link to `nodeId` holds more than TENSOR_BUFFERED_LIMIT_BYTES unsent. */
  async #roomOn(nodeId: string): Promise<void> {
    const buffered = this.#mesh.bufferedBytes;
    if (buffered === undefined) return;
    while (buffered.call(this.#mesh, nodeId) > TENSOR_BUFFERED_LIMIT_BYTES) await sleep(DRAIN_POLL_MS);
  }

  #fail(head: string | undefined, message: MeshMessageOf<'tensor'>, error: TesseraError): void {
    if (head === undefined || head === this.#mesh.nodeId) {
      this.#onError?.(message.planId, message.sequenceId, error);
      return;
    }
    try {
      this.#mesh.send(head, { type: 'error', code: error.code, message: `shard on node ${this.#mesh.nodeId}: ${error.message}`, sequenceId: message.sequenceId });
    } catch {
      // the head is gone too; nobody waits for this step any more
    }
  }

  async #loadForPeer(from: string, message: MeshMessageOf<'shard-load'>): Promise<void> {
    const status = (state: 'loading' | 'ready' | 'failed', error?: string, bytes?: { loaded: number; total: number }) => {
      try {
        this.#mesh.send(from, {
          type: 'shard-status',
          planId: message.planId,
          modelId: message.modelId,
          layerStart: message.layerStart,
          layerEnd: message.layerEnd,
          state,
          progress: state === 'ready' ? 1 : bytes !== undefined && bytes.total > 0 ? Math.min(1, Math.max(0, bytes.loaded / bytes.total)) : 0,
          ...(error === undefined ? {} : { error: error.slice(0, 4000) }),
          ...(bytes === undefined ? {} : { loadedBytes: Math.max(0, Math.floor(bytes.loaded)), totalBytes: Math.max(0, Math.floor(bytes.total)) }),
        });
      } catch {
        // the asking node left; its plan is void anyway
      }
    };
    const report = (state: PeerLoadReport['state'], error?: string, bytes?: { loaded: number; total: number }) => {
      this.#options.onPeerLoad?.({
        planId: message.planId,
        modelId: message.modelId,
        state,
        ...(bytes === undefined ? {} : { loadedBytes: bytes.loaded, totalBytes: bytes.total }),
        ...(error === undefined ? {} : { error }),
      });
      status(state, error, bytes);
    };
    // The head sees the engine's byte counts, a few times a second at most.
    let lastProgressAt = 0;
    const progress: ShardLoadProgress = (loaded, total) => {
      this.#options.onPeerLoad?.({ planId: message.planId, modelId: message.modelId, state: 'loading', loadedBytes: loaded, totalBytes: total });
      const now = Date.now();
      if (now - lastProgressAt < SHARD_PROGRESS_INTERVAL_MS && loaded < total) return;
      lastProgressAt = now;
      status('loading', undefined, { loaded, total });
    };
    const known = this.#plans.get(message.planId);
    const assignment = known?.plan.shards.find((shard) => shard.nodeId === this.#mesh.nodeId);
    if (!known || !assignment || assignment.layerStart !== message.layerStart || assignment.layerEnd !== message.layerEnd) {
      status('failed', 'shard-load does not match a plan this node was sent');
      return;
    }
    report('loading');
    try {
      const path = await this.#findModelFile(message).catch(async (error: unknown) => {
        if (this.#options.fetchModelFile === undefined || message.path === undefined) throw error;
        return this.#options.fetchModelFile(from, message);
      });
      await this.load(message.planId, message.modelId, known.plan, path, message.contextLength === undefined ? {} : { contextLength: message.contextLength }, progress);
      report('ready');
    } catch (error) {
      report('failed', error instanceof Error ? error.message : String(error));
    }
  }

  /**
   * The sender's path when this node has that file too, else `<dataDir>/models/<modelId>.gguf`,
   * else a shard of exactly these layers fetched earlier.
   */
  async #findModelFile(message: MeshMessageOf<'shard-load'>): Promise<string> {
    const { modelId, path } = message;
    const candidates = [
      ...(path === undefined ? [] : [path]),
      join(this.#options.dataDir, 'models', `${modelId}.gguf`),
      fetchedShardPath(this.#options.dataDir, modelId, message.layerStart, message.layerEnd),
    ];
    for (const candidate of candidates) {
      try {
        await access(candidate);
        return candidate;
      } catch {
        // try the next place
      }
    }
    throw new TesseraError('MODEL_NOT_FOUND', `this node has no file for model ${modelId} (looked in ${candidates.join(', ')})`);
  }
}
