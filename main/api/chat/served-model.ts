// A model the API serves: its engine, chat template and the tool-call format it writes.

import { basename } from 'node:path';
import { Engine, type EngineLoadOptions, type GenerateEvent, type GenerateRequest, type ModelInfo } from '../../engine/index.js';
import type { EmbeddingResult } from '../../engine/worker/protocol.js';
import { CHATML_TEMPLATE, ChatTemplate } from '../../engine/tokenizer/chat-template.js';
import { toolCallFormatFor, type ToolCallFormat } from '../openai/tool-calls/index.js';

/**
 * What the API needs of an engine: a local Engine, or a mesh pipeline driver / a model whose
 * head is another node (main/mesh/), which keep the same generate() contract.
 */
export interface ServingEngine {
  readonly info: ModelInfo;
  generate(request: GenerateRequest): AsyncGenerator<GenerateEvent>;
  tokenize(text: string, options?: { addBos?: boolean; parseSpecial?: boolean }): Promise<number[]>;
  embed(inputs: readonly (string | readonly number[])[]): Promise<EmbeddingResult>;
  close(): Promise<void>;
}

export interface ServedModel {
  /** The id clients name: the file name without `.gguf`. */
  readonly id: string;
  readonly engine: ServingEngine;
  /** The node whose engine runs it, when that is another node of the mesh. */
  readonly headNodeId?: string;
  readonly template: ChatTemplate;
  readonly toolFormat: ToolCallFormat;
  /** The template has a thinking block, split into `reasoning` when parsed. */
  readonly thinks: boolean;
  /** Unix seconds when it was loaded (OpenAI's `created`). */
  readonly created: number;
}

export function modelIdFromPath(path: string): string {
  return basename(path).replace(/\.gguf$/i, '');
}

export async function loadServedModel(options: EngineLoadOptions & { id?: string }): Promise<ServedModel> {
  const engine = await Engine.load(options);
  return serve(engine, options.id ?? modelIdFromPath(options.path));
}

export function serve(engine: ServingEngine, id: string, headNodeId?: string): ServedModel {
  const info = engine.info;
  const template = new ChatTemplate(info.chatTemplate || CHATML_TEMPLATE, { bos_token: info.bosToken ?? '', eos_token: info.eosToken ?? '' });
  const source = template.source;
  return {
    id,
    engine,
    ...(headNodeId === undefined ? {} : { headNodeId }),
    template,
    toolFormat: toolCallFormatFor(source, info.architecture),
    thinks: source.includes('<think>'),
    created: Math.floor(Date.now() / 1000),
  };
}
