// Ollama's model routes over the models this node serves: GET /api/tags, POST /api/show,
// GET /api/ps, GET /api/version, POST /api/embed. Ollama names models `name:tag`; a served
// model's id answers to itself and to `<id>:latest`.

import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { TesseraError } from '../../../shared/errors.js';
import type { ChatService } from '../chat/chat-service.js';
import type { ServedModel } from '../chat/served-model.js';
import { embedBatch } from '../openai/embeddings-service.js';
import { sendOllamaJson } from './ndjson.js';

const LATEST_TAG = ':latest';

/** The served model id a client's model name means (`qwen3` or `qwen3:latest`). */
export function resolveModelName(service: ChatService, name: string): string {
  if (service.models.get(name) !== undefined || !name.endsWith(LATEST_TAG)) return service.model(name).id;
  return service.model(name.slice(0, -LATEST_TAG.length)).id;
}

function ollamaName(model: ServedModel): string {
  return model.id.includes(':') ? model.id : `${model.id}${LATEST_TAG}`;
}

interface FileFacts {
  readonly size: number;
  readonly modifiedAt: string;
  /** Ollama's digest is of its manifest; here a stable hash of the file's identity (path, size, time). */
  readonly digest: string;
}

async function fileFacts(model: ServedModel): Promise<FileFacts> {
  const file = await stat(model.engine.info.path);
  const digest = createHash('sha256').update(`${model.engine.info.path}\0${file.size}\0${file.mtimeMs}`).digest('hex');
  return { size: file.size, modifiedAt: file.mtime.toISOString(), digest };
}

function details(model: ServedModel): Record<string, unknown> {
  const family = model.engine.info.architecture;
  return { parent_model: '', format: 'gguf', family, families: [family], parameter_size: '', quantization_level: '' };
}

export async function handleTags(service: ChatService, response: ServerResponse): Promise<void> {
  const models = await Promise.all(
    service.models.list().map(async (model) => {
      const facts = await fileFacts(model);
      return { name: ollamaName(model), model: ollamaName(model), modified_at: facts.modifiedAt, size: facts.size, digest: facts.digest, details: details(model) };
    }),
  );
  sendOllamaJson(response, { models });
}

export async function handlePs(service: ChatService, response: ServerResponse): Promise<void> {
  const models = await Promise.all(
    service.models.list().map(async (model) => {
      const facts = await fileFacts(model);
      return {
        name: ollamaName(model),
        model: ollamaName(model),
        size: facts.size,
        digest: facts.digest,
        details: details(model),
        // Models stay loaded until the node unloads them.
        expires_at: '9999-12-31T23:59:59Z',
        size_vram: 0,
        context_length: model.engine.info.contextLength,
      };
    }),
  );
  sendOllamaJson(response, { models });
}

const showBody = z.union([z.object({ model: z.string().min(1) }).loose(), z.object({ name: z.string().min(1) }).loose()]);

export async function handleShow(service: ChatService, json: unknown, _request: IncomingMessage, response: ServerResponse): Promise<void> {
  const parsed = showBody.safeParse(json);
  if (!parsed.success) throw new TesseraError('REQUEST_INVALID', 'model is required', { param: 'model' });
  const name = 'model' in parsed.data ? (parsed.data.model as string) : (parsed.data.name as string);
  const model = service.model(resolveModelName(service, name));
  const info = model.engine.info;
  const facts = await fileFacts(model);
  const arch = info.architecture;
  const capabilities = info.pooling !== undefined ? ['embedding'] : ['completion', 'tools', ...(model.thinks ? ['thinking'] : [])];
  sendOllamaJson(response, {
    license: '',
    modelfile: `# Served by Tessera from ${info.path}\nFROM ${info.path}\n`,
    parameters: '',
    template: model.template.source,
    details: details(model),
    model_info: {
      'general.architecture': arch,
      ...(info.name === undefined ? {} : { 'general.name': info.name }),
      [`${arch}.block_count`]: info.nLayers,
      [`${arch}.context_length`]: info.trainedContextLength,
      [`${arch}.embedding_length`]: info.dim,
      ...(info.pooling === undefined ? {} : { [`${arch}.pooling_type`]: info.pooling }),
      'tokenizer.ggml.vocab_size': info.vocabSize,
    },
    capabilities,
    modified_at: facts.modifiedAt,
  });
}

export function handleVersion(version: string, response: ServerResponse): void {
  sendOllamaJson(response, { version });
}

const embedBody = z.object({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1)]),
  truncate: z.boolean().nullish(),
  dimensions: z.number().int().positive().nullish(),
  options: z.record(z.string(), z.unknown()).nullish(),
  keep_alive: z.union([z.string(), z.number()]).nullish(),
});

export async function handleEmbed(service: ChatService, json: unknown, _request: IncomingMessage, response: ServerResponse): Promise<void> {
  const parsed = embedBody.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue?.path.map(String).join('.') ?? '';
    throw new TesseraError('REQUEST_INVALID', `${param ? `${param}: ` : ''}${issue?.message ?? 'invalid request'}`, param ? { param } : {});
  }
  const b = parsed.data;
  const batch = await embedBatch(service, resolveModelName(service, b.model), typeof b.input === 'string' ? [b.input] : b.input, b.dimensions ?? undefined);
  sendOllamaJson(response, {
    model: b.model,
    embeddings: batch.vectors.map((vector) => Array.from(vector)),
    total_duration: Math.round(batch.durationMs * 1e6),
    load_duration: 0,
    prompt_eval_count: batch.promptTokens,
  });
}
