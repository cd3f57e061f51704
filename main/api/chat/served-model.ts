// A model the API serves: its engine, chat template and the tool-call format it writes.

import { basename } from 'node:path';
import { Engine, type EngineLoadOptions } from '../../engine/index.js';
import { CHATML_TEMPLATE, ChatTemplate } from '../../engine/tokenizer/chat-template.js';
import { toolCallFormatFor, type ToolCallFormat } from '../openai/tool-calls/index.js';

export interface ServedModel {
  /** The id clients name: the file name without `.gguf`. */
  readonly id: string;
  readonly engine: Engine;
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

export function serve(engine: Engine, id: string): ServedModel {
  const info = engine.info;
  const template = new ChatTemplate(info.chatTemplate || CHATML_TEMPLATE, { bos_token: info.bosToken ?? '', eos_token: info.eosToken ?? '' });
  const source = template.source;
  return {
    id,
    engine,
    template,
    toolFormat: toolCallFormatFor(source, info.architecture),
    thinks: source.includes('<think>'),
    created: Math.floor(Date.now() / 1000),
  };
}
