// The composition root: `createNode(config)` builds a node's parts with plain arguments — data
// directory, identity, token, device sampler, HTTP server with the UI and control API — starts
// them, and hands back one object that stops them all. Later parts (engine, mesh, OpenAI API)
// are wired in here too.
import { hostname } from 'node:os';
import { OPENAI_API_PREFIX, TOKEN_QUERY_PARAMETER, type ControlEvent, type NodeInfo } from '../../shared/control.js';
import { ControlRouter } from '../api/control-router.js';
import { nodeRoutes } from '../api/control/node-routes.js';
import { modelsRoutes } from '../api/control/models-routes.js';
import { downloadsRoutes } from '../api/control/downloads-routes.js';
import { DownloadManager, hubSettingsFromEnv, ModelStore, modelsDirOf } from '../models/index.js';
import { RequestLog, requestsRoutes } from '../api/control/requests-routes.js';
import { join } from 'node:path';
import { HttpServer } from '../api/server.js';
import { StaticFilesRouter } from '../api/static-files.js';
import { HealthRouter } from '../api/health-router.js';
import { ChatService } from '../api/chat/chat-service.js';
import { OpenAIRouter } from '../api/openai/router.js';
import { AnthropicRouter, ANTHROPIC_MESSAGES_PATH } from '../api/anthropic/router.js';
import { OLLAMA_PATHS, OllamaRouter } from '../api/ollama/router.js';
import { randomBytes } from 'node:crypto';
import { ServedModels } from './served-models.js';
import { TokenRateMeter } from './rate-meter.js';
import { Cluster, MODEL_LOAD_PEER_WAIT_MS } from './cluster.js';
import { clusterRoutes } from '../api/control/cluster-routes.js';
import { defaultUiDir, type NodeConfig } from './config.js';
import { prepareDataDir } from './data-dir.js';
import { DeviceSampler } from './device.js';
import { EventBus, type Unsubscribe } from './event-bus.js';
import { loadOrCreateIdentity, saveIdentity, type NodeIdentity } from './identity.js';
import { loadOrCreateToken } from './token.js';
import { tesseraVersion } from './version.js';

export interface TesseraNode {
  readonly config: Readonly<NodeConfig>;
  /** The node token that guards /api (see main/node/token.ts). */
  readonly token: string;
  /** The HTTP server: mount more routers on it (`node.http.mount('/v1', router)`). */
  readonly http: HttpServer;
  /** Base URL, e.g. `http://127.0.0.1:7340`. */
  readonly url: string;
  /** The UI URL with the token, as printed by `tessera serve`. */
  readonly uiUrl: string;
  /** The OpenAI API base URL (`…/v1`). */
  readonly openAiUrl: string;
  /** The models served through the APIs. */
  readonly models: ServedModels;
  /** The mesh side of the node, when it runs one (config.mesh). */
  readonly cluster: Cluster | undefined;
  info(): NodeInfo;
  rename(name: string): Promise<NodeInfo>;
  subscribe(listener: (event: ControlEvent) => void): Unsubscribe;
  /** Stops every part; safe to call twice. */
  stop(): Promise<void>;
}

export async function createNode(config: NodeConfig): Promise<TesseraNode> {
  await prepareDataDir(config.dataDir);
  let identity: NodeIdentity = await loadOrCreateIdentity(config.dataDir, { name: config.name, defaultName: hostname() });
  const token = await loadOrCreateToken(config.dataDir);
  const version = tesseraVersion();
  const startedAt = Date.now();

  const events = new EventBus<ControlEvent>();
  const sampler = new DeviceSampler((device) => events.publish({ type: 'device', device }), config.deviceSampleIntervalMs);
  const info = (): NodeInfo => ({ id: identity.id, name: identity.name, version, startedAt, device: sampler.latest });

  const rename = async (name: string): Promise<NodeInfo> => {
    identity = { ...identity, name };
    await saveIdentity(config.dataDir, identity);
    const node = info();
    events.publish({ type: 'node', node });
    return node;
  };

  // Tokens generated here (and, with a mesh, ring steps run for peers' pipelines): the live rate.
  const rateMeter = new TokenRateMeter();
  const models = new ServedModels(
    {
      ...(config.threads === undefined ? {} : { threads: config.threads }),
      ...(config.contextLength === undefined ? {} : { contextLength: config.contextLength }),
    },
    { onToken: () => rateMeter.record() },
  );
  const cluster =
    config.mesh === undefined
      ? undefined
      : await Cluster.start({
          dataDir: config.dataDir,
          name: identity.name,
          ...config.mesh,
          discovery: config.mesh.discovery ?? true,
          ...(config.threads === undefined ? {} : { threads: config.threads }),
          ...(config.contextLength === undefined ? {} : { contextLength: config.contextLength }),
          publish: (event) => events.publish(event),
          rateMeter,
        });
  cluster?.attach(models);
  const chat = new ChatService(models, () => `call_${randomBytes(12).toString('base64url')}`);

  const http = new HttpServer({ host: config.host, port: config.port });
  const requestLog = new RequestLog((event) => events.publish(event));
  const downloads = new DownloadManager({
    store: new ModelStore(modelsDirOf(config.dataDir)),
    nodeId: identity.id,
    hub: () => hubSettingsFromEnv(),
    // Peers that already hold a file are asked first; the hub is the fallback.
    ...(cluster === undefined ? {} : { peerSource: (fileName: string) => cluster.findPeerFile(fileName) }),
    publish: (download) => {
      events.publish({ type: 'download', download });
      if (download.state === 'done') events.publish({ type: 'models' });
    },
  });
  http.mount(
    OPENAI_API_PREFIX,
    new OpenAIRouter(chat, { ...(config.apiKey ? { apiKey: config.apiKey } : {}), corsOrigins: config.corsOrigins ?? [], onRequest: (record) => requestLog.add(record) }),
  );
  // Anthropic's Messages API sits under /v1 too: its longer prefix takes /v1/messages.
  http.mount(ANTHROPIC_MESSAGES_PATH, new AnthropicRouter(chat, config.apiKey ? { apiKey: config.apiKey } : {}));
  // Ollama's paths share /api with the control API: mounted at each exact path, they win over
  // the control API's /api (longest prefix first) and need no node token.
  const ollama = new OllamaRouter(chat, { version, ...(config.apiKey ? { apiKey: config.apiKey } : {}) });
  for (const path of OLLAMA_PATHS) http.mount(path, ollama);
  http.mount('/health', new HealthRouter(() => models.list().map((model) => model.id)));
  http.mount(
    '/api',
    new ControlRouter(
      [
        nodeRoutes({ nodeInfo: info, renameNode: rename }),
        ...(cluster === undefined
          ? []
          : [
              clusterRoutes({
                view: () => cluster.view(),
                planPreview: (path, contextLength) => cluster.planPreview(path, contextLength),
                addPeer: (address) => cluster.mesh.addPeer(address),
                removePeer: (address) => cluster.mesh.removePeer(address),
                setMemoryLimit: (bytes) => cluster.setMemoryLimit(bytes),
                joinSecret: () => cluster.mesh.joinSecret,
              }),
            ]),
        modelsRoutes({ modelsDir: join(config.dataDir, 'models'), models, publish: (event) => events.publish(event) }),
        downloadsRoutes({
          memoryBytes: () => sampler.latest.memory.totalBytes,
          list: () => downloads.list(),
          start: (request) => downloads.start(request),
          cancel: (id) => downloads.cancel(id),
        }),
        requestsRoutes({
          log: requestLog,
          serverInfo: () => ({ openAiBaseUrl: `${http.url}${OPENAI_API_PREFIX}`, apiKeyRequired: Boolean(config.apiKey), apiKey: config.apiKey || null }),
        }),
      ],
      {
        token,
        hostCheck: http.hostCheck,
        hello: () => ({ type: 'hello', node: info() }),
        subscribe: (listener) => events.subscribe(listener),
      },
    ),
  );
  http.mount('/', new StaticFilesRouter(config.uiDir ?? defaultUiDir()));
  try {
    await http.listen();
    if (config.model !== undefined) {
      // Peers named on the command line get a moment to connect, so the model plans over them.
      await cluster?.waitForPeers(config.mesh?.peers?.length ?? 0, MODEL_LOAD_PEER_WAIT_MS);
      await models.load(config.model);
    }
  } catch (error) {
    await http.close();
    await models.closeAll();
    await cluster?.stop();
    throw error;
  }
  sampler.start();

  let stopping: Promise<void> | undefined;
  const url = http.url;
  return {
    config,
    token,
    http,
    url,
    uiUrl: `${url}/?${TOKEN_QUERY_PARAMETER}=${encodeURIComponent(token)}`,
    openAiUrl: `${url}${OPENAI_API_PREFIX}`,
    models,
    cluster,
    info,
    rename,
    subscribe: (listener) => events.subscribe(listener),
    stop: () => {
      stopping ??= (async () => {
        sampler.stop();
        await downloads.stopAll();
        await http.close();
        await models.closeAll();
        await cluster?.stop();
      })();
      return stopping;
    },
  };
}
