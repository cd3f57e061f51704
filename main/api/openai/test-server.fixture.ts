// Tests only: a real HTTP server with the OpenAI API over the real engine, serving a small
// random-weight Qwen3-shaped model written for the test.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRandomModel } from '../../engine/gguf/random-model.js';
import { ChatService } from '../chat/chat-service.js';
import { loadServedModel, type ServedModel } from '../chat/served-model.js';
import { HttpServer } from '../server.js';
import { OpenAIRouter, type OpenAIRouterOptions } from './router.js';

export interface TestApiServer {
  readonly url: string;
  readonly baseURL: string;
  readonly model: ServedModel;
  readonly service: ChatService;
  close(): Promise<void>;
}

export interface TestApiServerOptions extends OpenAIRouterOptions {
  seed?: number;
  maxQueuedRequests?: number;
  /** Tool call ids are this plus a counter (default `call_test`). */
  callIdPrefix?: string;
  /** Mounts further dialects on the same server (the OpenAI API is always at /v1). */
  mount?: (server: HttpServer, service: ChatService) => void;
}

export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-api-'));
  const path = join(dir, 'qwen3-tiny.gguf');
  await writeRandomModel(path, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed: options.seed ?? 7 });
  const model = await loadServedModel({ path, threads: 1, contextLength: 1024 });
  let calls = 0;
  const service = new ChatService({ get: (id) => (id === model.id ? model : undefined), list: () => [model] }, () => `${options.callIdPrefix ?? 'call_test'}${calls++}`, options.maxQueuedRequests);
  const server = new HttpServer({ host: '127.0.0.1', port: 0 });
  server.mount('/v1', new OpenAIRouter(service, options));
  options.mount?.(server, service);
  await server.listen();
  return {
    url: server.url,
    baseURL: `${server.url}/v1`,
    model,
    service,
    close: async () => {
      await server.close();
      await model.engine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
