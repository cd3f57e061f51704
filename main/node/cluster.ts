// The node's part in a cluster: its mesh (peers, device report), the shards it runs for plans,
// the models it serves pipeline-parallel as their head, and the models other nodes serve that
// its API forwards to. `ServedModels` loads through `Cluster.loadServedModel`, so loading a model
// on a node with peers plans it over the cluster; one with no peers (or a plan of one node)
// loads it locally as before.
//
// Model files: a peer told to load a shard looks at the head's path first, then at `<its data
// dir>/models/<model id>.gguf`, then for a shard of those layers it fetched before; failing all,
// it fetches just its layer range from the head over the mesh (peer-files.ts). Every node also
// hands the verified files of its model store to peers, so a pull asks peers before the hub.
import { randomUUID } from 'node:crypto';
import { freemem } from 'node:os';
import type { ClusterView, ControlEvent } from '../../shared/control.js';
import { TesseraError, isTesseraError } from '../../shared/errors.js';
import type { MeshMessage, MeshMessageOf, Plan } from '../../shared/mesh-protocol.js';
import { serve, type ServedModel } from '../api/chat/served-model.js';
import type { Engine, EngineLoadOptions } from '../engine/index.js';
import { readModelHeader } from '../engine/gguf/model-files.js';
import type { GGUFHeader } from '../engine/gguf/types.js';
import { Tokenizer } from '../engine/tokenizer/tokenizer.js';
import { Mesh, plan as planRing, type MeshConfig, type PlannerDevice, type PlannerLink } from '../mesh/index.js';
import { plannerModelFromHeader } from '../mesh/model-figures.js';
import { PipelineEngine, type PipelineDeployment } from '../mesh/pipeline-engine.js';
import { RemoteGenerations } from '../mesh/remote-engine.js';
import { fetchedShardPath, ShardHost, type PeerLoadReport } from '../mesh/shard-host.js';
import { fetchShardFromPeer, findPeerFile, serveFilesOverMesh } from '../mesh/peer-files.js';
import { SharedModelFiles } from '../mesh/shared-files.js';
import { ModelStore, modelsDirOf } from '../models/model-store.js';
import type { RangeSource } from '../models/range-source.js';
import { hashOf } from '../models/pull-model.js';
import { basename, dirname } from 'node:path';
import { mkdir, stat } from 'node:fs/promises';
import { readDeviceInfo } from './device.js';
import { measureKernelThroughput } from './kernel-throughput.js';
import type { ServedModels } from './served-models.js';
import { loadEngine, loadServedModelWithProgress } from './engine-loader.js';
import { loadFraction, LoadProgressBoard } from './load-progress.js';
import { TokenRateMeter } from './rate-meter.js';

/** Longest a peer may take to load its shard. */
export const SHARD_LOAD_TIMEOUT_MS = 120_000;
/** Context length when neither the request nor the config says (as the engine's default). */
const DEFAULT_CONTEXT_LENGTH = 4096;
/** Longest a node starting with `--model` waits for its `--peer`s before planning. */
export const MODEL_LOAD_PEER_WAIT_MS = 5_000;
/** How often this node re-announces its device and checks which models it announces. */
export const CLUSTER_REFRESH_MS = 2_000;

export interface ClusterOptions extends MeshConfig {
  /** Caps the memory this node offers the cluster (bytes); none when absent. */
  memoryLimitBytes?: number;
  threads?: number;
  contextLength?: number;
  /** The node's control events (the `cluster` event goes there). */
  publish: (event: ControlEvent) => void;
  /**
   * This node's generation rate: the node records the tokens its served models generate, the
   * cluster adds the ring steps its shards run for other nodes' pipelines and reports the rate to
   * peers. Default: a meter of its own.
   */
  rateMeter?: TokenRateMeter;
}

interface ShardWaiter {
  resolve(): void;
  reject(error: TesseraError): void;
}

export class Cluster {
  readonly mesh: Mesh;
  readonly #options: ClusterOptions;
  readonly #host: ShardHost;
  readonly #remote: RemoteGenerations;
  readonly #drivers = new Set<PipelineEngine>();
  readonly #shardWaiters = new Map<string, ShardWaiter>();
  /** Forwarded generations this node runs as a head, by request id. */
  readonly #serving = new Map<string, AbortController>();
  /** Local models announced to peers, by id → the engine announced. */
  readonly #announced = new Map<string, unknown>();
  readonly #kernelWeightBytesPerSecond: number;
  #memoryLimitBytes: number | null;
  #models: ServedModels | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #store: ModelStore;
  readonly #sharedFiles: SharedModelFiles;
  readonly #stopServingFiles: () => void;
  readonly #rate: TokenRateMeter;
  readonly #loads: LoadProgressBoard;
  /** The rate in the last device report, so a change is published to the UI. */
  #reportedRate = 0;
  /** Plans whose shard this node is loading for another node (shown on this node's board too). */
  readonly #loadingForPeers = new Set<string>();

  private constructor(mesh: Mesh, options: ClusterOptions) {
    this.mesh = mesh;
    this.#options = options;
    this.#memoryLimitBytes = options.memoryLimitBytes ?? null;
    this.#kernelWeightBytesPerSecond = measureKernelThroughput();
    this.#store = new ModelStore(modelsDirOf(options.dataDir));
    this.#sharedFiles = new SharedModelFiles(this.#store);
    this.#stopServingFiles = serveFilesOverMesh(mesh, this.#sharedFiles);
    this.#rate = options.rateMeter ?? new TokenRateMeter();
    this.#loads = new LoadProgressBoard(() => this.#changed());
    this.#host = new ShardHost(mesh, {
      dataDir: options.dataDir,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      fetchModelFile: (from, request) => this.#fetchShardFile(from, request),
      loadEngine,
      // The head counts its pipeline's tokens as they are sampled; other shards count ring steps.
      onStepDone: (planId) => {
        if (![...this.#drivers].some((driver) => driver.deployment?.planId === planId)) this.#rate.record();
      },
      onPeerLoad: (report) => this.#onPeerLoad(report),
    });
    this.#remote = new RemoteGenerations((nodeId, message) => mesh.send(nodeId, message));
    this.#host.onOutput((output) => {
      for (const driver of this.#drivers) if (driver.deployment?.planId === output.planId) driver.deliver(output);
    });
    this.#host.onError((planId, _sequence, error) => {
      for (const driver of this.#drivers) if (driver.deployment?.planId === planId) driver.fail(error);
    });
    mesh.on('message', ({ from, message }) => this.#onMessage(from, message));
    mesh.on('peer-joined', (peer) => {
      this.#announceAll(peer.nodeId);
      this.#changed();
    });
    mesh.on('peer-updated', () => this.#changed());
    mesh.on('peer-left', ({ nodeId, name, error }) => this.#onPeerLeft(nodeId, name, error));
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const mesh = await Mesh.start(options);
    const cluster = new Cluster(mesh, options);
    cluster.#reportDevice();
    cluster.#timer = setInterval(() => {
      cluster.#reportDevice();
      cluster.#syncAnnouncements();
    }, CLUSTER_REFRESH_MS);
    cluster.#timer.unref();
    return cluster;
  }

  /** Resolves once `count` peers are connected (and have sent their device), or after `timeoutMs`. */
  async waitForPeers(count: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.mesh.peers().filter((peer) => peer.device !== null && peer.bandwidthBytesPerSecond !== null).length < count) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Serves `models` through the cluster: loads plan over it, remote models appear in it. */
  attach(models: ServedModels): void {
    this.#models = models;
    models.setLoader((options) => this.loadServedModel(options));
  }

  get memoryLimitBytes(): number | null {
    return this.#memoryLimitBytes;
  }

  setMemoryLimit(bytes: number | null): ClusterView {
    this.#memoryLimitBytes = bytes;
    this.#reportDevice();
    this.#changed();
    return this.view();
  }

  view(): ClusterView {
    const topology = this.mesh.topology();
    return {
      selfId: this.mesh.nodeId,
      meshPort: this.mesh.port,
      memoryLimitBytes: this.#memoryLimitBytes,
      manualPeers: this.mesh.manualPeers(),
      nodes: topology.nodes.map((node) => ({
        ...node,
        tokensPerSecond: node.self ? roundRate(this.#rate.rate()) : (node.device?.tokensPerSecond ?? null),
      })),
      links: topology.links,
      plans: [...this.#drivers].flatMap((driver) => {
        const deployment = driver.deployment;
        const id = this.#modelIdOf(driver);
        return deployment === undefined || id === undefined ? [] : [{ planId: deployment.planId, modelId: id, plan: deployment.plan }];
      }),
      shards: this.#host.shards(),
      remoteModels: (this.#models?.list() ?? []).flatMap((model) => (model.headNodeId === undefined ? [] : [{ id: model.id, headNodeId: model.headNodeId }])),
      loads: this.#loads.list(),
    };
  }

  /** The plan the cluster would make for a model file now (loads nothing). Throws PLAN_NO_FIT. */
  async planPreview(path: string, contextLength?: number): Promise<Plan> {
    const header = await readHeader(path);
    return this.#plan(header, this.#contextLength(header, contextLength));
  }

  /** ServedModels' loader: local when alone or when one node holds it all, else a pipeline. */
  async loadServedModel(options: EngineLoadOptions & { id: string }): Promise<ServedModel> {
    this.#loads.begin(options.id);
    try {
      return await this.#loadServedModel(options);
    } finally {
      this.#loads.end(options.id);
    }
  }

  async #loadServedModel(options: EngineLoadOptions & { id: string }): Promise<ServedModel> {
    if (this.mesh.peers().length === 0) return this.#announceAfter(this.#loadLocally(options));
    const header = await readHeader(options.path);
    const contextLength = this.#contextLength(header, options.contextLength);
    const plan = this.#plan(header, contextLength);
    if (plan.shards.length === 1) return this.#announceAfter(this.#loadLocally({ ...options, contextLength }));
    const tokenizer = new Tokenizer(header.metadata);
    const path = options.path;
    const loadOptions = { ...options, contextLength };
    const first = await this.#deploy(options.id, path, plan, loadOptions);
    const headEngine = this.#host.localEngine(first.planId)!;
    const driver: PipelineEngine = new PipelineEngine({
      selfId: this.mesh.nodeId,
      send: (nodeId, message) => this.mesh.send(nodeId, message),
      tokenizer,
      info: { ...headEngine.info, layers: [0, headEngine.info.nLayers], isFirst: true, isLast: true },
      deployment: first,
      redeploy: async () => this.#deploy(options.id, path, this.#plan(header, contextLength), loadOptions),
      release: async (deployment) => this.#release(deployment),
    });
    this.#drivers.add(driver);
    const close = driver.close.bind(driver);
    driver.close = async () => {
      this.#drivers.delete(driver);
      await close();
      this.#changed();
    };
    this.#changed();
    return this.#announceAfter(Promise.resolve(serve(driver, options.id)));
  }

  /** The whole model on this node, its progress on the board under this node's id. */
  async #loadLocally(options: EngineLoadOptions & { id: string }): Promise<ServedModel> {
    const progress = this.#progressOf(options.id, this.mesh.nodeId);
    progress(0, 0);
    try {
      const model = await loadServedModelWithProgress(options, progress);
      this.#loads.update(options.id, this.mesh.nodeId, { state: 'ready' });
      return model;
    } catch (error) {
      this.#loads.update(options.id, this.mesh.nodeId, { state: 'failed', error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  /** A shard this node loads for another node's plan: its own UI shows it like a load of its own. */
  #onPeerLoad(report: PeerLoadReport): void {
    if (!this.#loadingForPeers.has(report.planId)) {
      if (report.state !== 'loading') return;
      this.#loadingForPeers.add(report.planId);
      this.#loads.begin(report.modelId);
    }
    this.#loads.update(report.modelId, this.mesh.nodeId, {
      state: report.state,
      ...(report.totalBytes === undefined ? {} : { fraction: loadFraction(report.loadedBytes ?? 0, report.totalBytes), loadedBytes: report.loadedBytes ?? 0, totalBytes: report.totalBytes }),
      ...(report.error === undefined ? {} : { error: report.error }),
    });
    if (report.state !== 'loading') {
      this.#loadingForPeers.delete(report.planId);
      this.#loads.end(report.modelId);
    }
  }

  /** A listener of one device's engine byte counts for one model load. */
  #progressOf(modelId: string, nodeId: string): (loadedBytes: number, totalBytes: number) => void {
    return (loadedBytes, totalBytes) =>
      this.#loads.update(modelId, nodeId, {
        fraction: loadFraction(loadedBytes, totalBytes),
        ...(totalBytes > 0 ? { loadedBytes, totalBytes } : {}),
      });
  }

  /** A peer that holds `fileName` (asked all at once), for the download manager; undefined when none does. */
  findPeerFile(fileName: string): Promise<RangeSource | undefined> {
    return findPeerFile(this.mesh, fileName);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#loads.dispose();
    this.#stopServingFiles();
    for (const controller of this.#serving.values()) controller.abort();
    await this.#host.closeAll();
    await this.mesh.stop();
  }

  // ---- planning and shards ---------------------------------------------------------------

  #plan(header: GGUFHeader, contextLength: number): Plan {
    const topology = this.mesh.topology();
    const devices: PlannerDevice[] = topology.nodes.flatMap((node) =>
      node.device === null ? [] : [{ id: node.nodeId, freeMemoryBytes: node.device.offeredMemoryBytes, weightBytesPerSecond: node.device.kernelWeightBytesPerSecond ?? 0 }],
    );
    const links: PlannerLink[] = topology.links.flatMap((link) =>
      link.bandwidthBytesPerSecond === null ? [] : [{ a: link.from, b: link.to, rttMs: link.rttMs, bandwidthBytesPerSecond: link.bandwidthBytesPerSecond }],
    );
    return planRing(devices, links, plannerModelFromHeader(header, contextLength), { headNodeId: this.mesh.nodeId });
  }

  #contextLength(header: GGUFHeader, asked: number | undefined): number {
    const arch = header.metadata.get('general.architecture');
    const trained = header.metadata.get(`${String(arch)}.context_length`);
    return asked ?? this.#options.contextLength ?? Math.min(DEFAULT_CONTEXT_LENGTH, typeof trained === 'number' ? trained : DEFAULT_CONTEXT_LENGTH);
  }

  /** Sends the plan to its nodes, waits until each loaded its shard, and loads the head's own. */
  async #deploy(modelId: string, path: string, plan: Plan, options: EngineLoadOptions): Promise<PipelineDeployment> {
    const planId = randomUUID();
    const deployment = { planId, plan };
    this.#sharedFiles.share(path); // a peer that lacks the file fetches its layers from here
    const peers = plan.shards.filter((shard) => shard.nodeId !== this.mesh.nodeId);
    for (const shard of plan.shards) this.#loads.update(modelId, shard.nodeId, { state: 'loading', fraction: 0 });
    try {
      const ready = peers.map(
        (shard) =>
          new Promise<void>((resolve, reject) => {
            const key = `${planId}/${shard.nodeId}`;
            const timer = setTimeout(() => {
              this.#shardWaiters.delete(key);
              reject(new TesseraError('SHARD_LOAD_FAILED', `node ${shard.nodeId} did not load its shard within ${SHARD_LOAD_TIMEOUT_MS} ms`));
            }, SHARD_LOAD_TIMEOUT_MS);
            this.#shardWaiters.set(key, {
              resolve: () => (clearTimeout(timer), resolve()),
              reject: (error) => (clearTimeout(timer), reject(error)),
            });
            this.mesh.send(shard.nodeId, { type: 'plan', planId, modelId, plan });
            this.mesh.send(shard.nodeId, {
              type: 'shard-load', planId, modelId, layerStart: shard.layerStart, layerEnd: shard.layerEnd, path,
              ...(options.contextLength === undefined ? {} : { contextLength: options.contextLength }),
            });
          }),
      );
      const { path: _path, layers: _layers, ...engineOptions } = options as EngineLoadOptions & { id?: string };
      delete (engineOptions as { id?: string }).id;
      const ownLoad = this.#host.load(planId, modelId, plan, path, engineOptions, this.#progressOf(modelId, this.mesh.nodeId)).then((engine) => {
        this.#loads.update(modelId, this.mesh.nodeId, { state: 'ready' });
        return engine;
      });
      await Promise.all([...ready, ownLoad]);
      return deployment;
    } catch (error) {
      for (const shard of peers) this.#shardWaiters.delete(`${planId}/${shard.nodeId}`);
      await this.#release(deployment);
      throw isTesseraError(error) ? error : new TesseraError('SHARD_LOAD_FAILED', String(error), { cause: error });
    }
  }

  async #release(deployment: PipelineDeployment): Promise<void> {
    for (const shard of deployment.plan.shards) {
      if (shard.nodeId === this.mesh.nodeId) continue;
      try {
        this.mesh.send(shard.nodeId, { type: 'shard-unload', planId: deployment.planId });
      } catch {
        // gone: its shards went with it
      }
    }
    await this.#host.unload(deployment.planId);
  }

  /** Fetches the layers a shard-load asks for from the head that sent it, into the model store. */
  async #fetchShardFile(from: string, request: MeshMessageOf<'shard-load'>): Promise<string> {
    const name = basename(request.path!);
    const destination = fetchedShardPath(this.#options.dataDir, request.modelId, request.layerStart, request.layerEnd);
    await mkdir(dirname(destination), { recursive: true });
    const result = await fetchShardFromPeer(this.mesh, from, name, [request.layerStart, request.layerEnd], destination);
    const manifestId = basename(destination, '.gguf');
    const { size: sizeBytes } = await stat(destination);
    await this.#store.writeManifest({
      id: manifestId,
      // The shard's own bytes have no hub hash to match: every piece was checked against the head's copy.
      files: [{ name: basename(destination), sizeBytes, sha256: await hashOf(destination), verified: false }],
      shard: { layers: result.layers, sourceFile: name, ...(result.sha256 === undefined ? {} : { sourceSha256: result.sha256 }) },
      createdAt: Date.now(),
    });
    return destination;
  }

  // ---- messages ---------------------------------------------------------------------------

  #onMessage(from: string, message: MeshMessage): void {
    if (this.#host.handle(from, message)) return;
    if (this.#remote.handle(from, message)) return;
    switch (message.type) {
      case 'shard-status': {
        const waiter = this.#shardWaiters.get(`${message.planId}/${from}`);
        if (waiter === undefined) return;
        if (message.state !== 'unloaded') {
          this.#loads.update(message.modelId, from, {
            state: message.state,
            fraction: message.progress,
            ...(message.totalBytes === undefined ? {} : { loadedBytes: message.loadedBytes ?? 0, totalBytes: message.totalBytes }),
            ...(message.error === undefined ? {} : { error: message.error }),
          });
        }
        if (message.state === 'ready') waiter.resolve();
        else if (message.state === 'failed') waiter.reject(new TesseraError('SHARD_LOAD_FAILED', `node ${from} could not load its shard: ${message.error ?? 'unknown error'}`));
        else return;
        this.#shardWaiters.delete(`${message.planId}/${from}`);
        this.#changed();
        return;
      }
      case 'error':
        // A shard of one of our plans failed a step.
        for (const driver of this.#drivers) if (driver.involves(from)) driver.fail(new TesseraError('PIPELINE_FAILED', message.message));
        return;
      case 'model-announce':
        if (this.#models?.get(message.modelId)?.headNodeId === undefined && this.#models?.get(message.modelId) !== undefined) return;
        this.#models?.addRemote(serve(this.#remote.engine(message.modelId, from, message.info), message.modelId, from));
        this.#changed();
        return;
      case 'model-withdraw':
        this.#models?.removeRemote(message.modelId, from);
        this.#changed();
        return;
      case 'generate':
        void this.#serveForwarded(from, message);
        return;
      case 'generate-cancel':
        this.#serving.get(message.requestId)?.abort();
        return;
      default:
        return; // device and topology reports: the mesh keeps them
    }
  }

  /** Runs a generation another node forwarded to this head, streaming its events back. */
  async #serveForwarded(from: string, message: MeshMessageOf<'generate'>): Promise<void> {
    const controller = new AbortController();
    this.#serving.set(message.requestId, controller);
    const send = (reply: MeshMessage) => {
      try {
        this.mesh.send(from, reply);
      } catch {
        controller.abort(); // the asking node left
      }
    };
    try {
      const model = this.#models?.get(message.modelId);
      if (model === undefined || model.headNodeId !== undefined) throw new TesseraError('MODEL_NOT_FOUND', `this node does not run model ${message.modelId}`);
      const request = message.request as Parameters<Engine['generate']>[0];
      for await (const event of model.engine.generate({ ...request, signal: controller.signal })) {
        send({ type: 'generate-event', requestId: message.requestId, // The wire schema mirrors GenerateEvent without its readonly markers.
        event: event as unknown as MeshMessageOf<'generate-event'>['event'] });
      }
    } catch (error) {
      const failure = isTesseraError(error) ? error : new TesseraError('INTERNAL', String(error));
      send({ type: 'error', code: failure.code, message: failure.message, sequenceId: message.requestId });
    } finally {
      this.#serving.delete(message.requestId);
    }
  }

  #onPeerLeft(nodeId: string, name: string, error: TesseraError): void {
    this.#remote.peerLeft(nodeId, error);
    const gone = new TesseraError('PEER_UNREACHABLE', `node "${name}" (${nodeId.slice(0, 12)}) left the cluster mid-request: ${error.message}`);
    for (const driver of this.#drivers) if (driver.involves(nodeId)) driver.fail(gone);
    for (const [key, waiter] of this.#shardWaiters) if (key.endsWith(`/${nodeId}`)) waiter.reject(gone);
    // Shards this node runs for a plan the leaver was in (its own plans' drivers re-plan).
    const ownPlans = new Set([...this.#drivers].map((driver) => driver.deployment?.planId));
    for (const plan of this.#host.plans()) {
      if (!ownPlans.has(plan.planId) && plan.plan.shards.some((shard) => shard.nodeId === nodeId)) void this.#host.unload(plan.planId);
    }
    for (const model of this.#models?.list() ?? []) if (model.headNodeId === nodeId) this.#models?.removeRemote(model.id, nodeId);
    this.#changed();
  }

  // ---- announcements and reports ---------------------------------------------------------

  async #announceAfter(loading: Promise<ServedModel>): Promise<ServedModel> {
    const model = await loading;
    queueMicrotask(() => this.#syncAnnouncements());
    return model;
  }

  /** Tells peers about local models that are new and withdraws those that are gone. */
  #syncAnnouncements(): void {
    const local = new Map((this.#models?.list() ?? []).filter((model) => model.headNodeId === undefined).map((model) => [model.id, model]));
    for (const [id, engine] of this.#announced) {
      if (local.get(id)?.engine === engine) continue;
      this.#announced.delete(id);
      this.mesh.broadcast({ type: 'model-withdraw', modelId: id });
    }
    for (const [id, model] of local) {
      if (this.#announced.has(id)) continue;
      this.#announced.set(id, model.engine);
      this.mesh.broadcast(this.#announcement(model));
    }
  }

  #announceAll(nodeId: string): void {
    for (const model of this.#models?.list() ?? []) {
      if (model.headNodeId !== undefined || !this.#announced.has(model.id)) continue;
      try {
        this.mesh.send(nodeId, this.#announcement(model));
      } catch {
        // left again already
      }
    }
  }

  #announcement(model: ServedModel): MeshMessage {
    const info = model.engine.info;
    return {
      type: 'model-announce',
      modelId: model.id,
      planId: [...this.#drivers].find((driver) => driver === model.engine)?.deployment?.planId ?? 'local',
      info: {
        path: info.path, architecture: info.architecture, layers: [info.layers[0], info.layers[1]], nLayers: info.nLayers, dim: info.dim,
        vocabSize: info.vocabSize, contextLength: info.contextLength, trainedContextLength: info.trainedContextLength,
        isFirst: info.isFirst, isLast: info.isLast, backend: info.backend, threads: info.threads, loadMs: info.loadMs,
        ...(info.name === undefined ? {} : { name: info.name }),
        ...(info.chatTemplate === undefined ? {} : { chatTemplate: info.chatTemplate }),
        ...(info.bosToken === undefined ? {} : { bosToken: info.bosToken }),
        ...(info.eosToken === undefined ? {} : { eosToken: info.eosToken }),
      },
    };
  }

  #reportDevice(): void {
    const device = readDeviceInfo();
    const free = Math.max(0, freemem());
    const tokensPerSecond = roundRate(this.#rate.rate());
    this.mesh.updateDevice({
      name: this.mesh.name,
      device,
      offeredMemoryBytes: this.#memoryLimitBytes === null ? free : Math.min(free, this.#memoryLimitBytes),
      kernelWeightBytesPerSecond: this.#kernelWeightBytesPerSecond,
      tokensPerSecond,
    });
    // Peers hear of it through the report; this node's own UI through a cluster event.
    if (tokensPerSecond !== this.#reportedRate) {
      this.#reportedRate = tokensPerSecond;
      this.#changed();
    }
  }

  #modelIdOf(driver: PipelineEngine): string | undefined {
    return this.#models?.list().find((model) => model.engine === driver)?.id;
  }

  #changed(): void {
    this.#options.publish({ type: 'cluster', cluster: this.view() });
  }
}

/** Two decimals are all a rate on screen needs; fewer changes to report. */
function roundRate(tokensPerSecond: number): number {
  return Math.round(tokensPerSecond * 100) / 100;
}

async function readHeader(path: string): Promise<GGUFHeader> {
  try {
    return await readModelHeader(path); // a whole file, or the merged header of a split model
  } catch (error) {
    if (isTesseraError(error)) throw error;
    throw new TesseraError('MODEL_NOT_FOUND', `cannot read model file ${path}`, { cause: error });
  }
}
