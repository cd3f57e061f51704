// Renders a model's Jinja chat template (`tokenizer.chat_template`) the way Hugging Face
// transformers' apply_chat_template does, from OpenAI-style messages and tools. Models without a
// template get plain ChatML, as llama.cpp falls back to.

import { Template } from '@huggingface/jinja';
import { TesseraError } from '../../../shared/errors.js';
import type { GGUFMetadata } from '../gguf/types.js';

export interface ChatToolCall {
  id?: string;
  type?: 'function';
  function: { name: string; arguments: string | Record<string, unknown> };
}

export type ChatContentPart = { type: 'text'; text: string } | { type: string; [key: string]: unknown };

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | (string & {});
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  /** Earlier thinking of a reasoning model (Qwen3 renders it inside <think>). */
  reasoning_content?: string | null;
}

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

export interface ChatRenderInput {
  messages: readonly ChatMessage[];
  tools?: readonly ChatTool[];
  /** End with the opening of the assistant's turn. Default true. */
  addGenerationPrompt?: boolean;
  /** Extra template variables, e.g. `{ enable_thinking: false }` for Qwen3. */
  variables?: Record<string, unknown>;
}

export interface SpecialTokenTexts {
  bos_token?: string;
  eos_token?: string;
  pad_token?: string;
  unk_token?: string;
}

/** llama.cpp's fallback when a model carries no template. */
export const CHATML_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

export class ChatTemplate {
  private readonly template: Template;
  /** Whether tool-call arguments stay JSON strings (the template tests `arguments is string`) or become objects. */
  private readonly keepsStringArguments: boolean;

  constructor(
    readonly source: string,
    private readonly specialTokens: SpecialTokenTexts = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (cause) {
      throw new TesseraError('CHAT_TEMPLATE_ERROR', `chat template does not parse: ${errorMessage(cause)}`, { cause });
    }
    this.keepsStringArguments = /arguments\s+is\s+string/.test(source);
  }

  /**
   * The template of a GGUF file, with its BOS/EOS texts, or ChatML when it has none.
   * `tokenText` maps an id to its vocabulary text (e.g. `Tokenizer.tokenText`).
   */
  static fromMetadata(metadata: GGUFMetadata, tokenText: (id: number) => string | undefined): ChatTemplate {
    const source = metadata.get('tokenizer.chat_template');
    const textOf = (key: string): string | undefined => {
      const id = metadata.get(key);
      return typeof id === 'number' ? tokenText(id) : undefined;
    };
    const specialTokens: SpecialTokenTexts = {
      bos_token: textOf('tokenizer.ggml.bos_token_id') ?? '',
      eos_token: textOf('tokenizer.ggml.eos_token_id') ?? '',
      pad_token: textOf('tokenizer.ggml.padding_token_id'),
      unk_token: textOf('tokenizer.ggml.unknown_token_id'),
    };
    return new ChatTemplate(typeof source === 'string' && source.length > 0 ? source : CHATML_TEMPLATE, specialTokens);
  }

  render(input: ChatRenderInput): string {
    const variables: Record<string, unknown> = {
      ...this.specialTokens,
      ...input.variables,
      messages: input.messages.map((message) => this.prepareMessage(message)),
      add_generation_prompt: input.addGenerationPrompt ?? true,
    };
    // @huggingface/jinja provides raise_exception and strftime_now itself; its errors become CHAT_TEMPLATE_ERROR below.
    // Templates test `if tools`, and an empty list must read as "no tools".
    if (input.tools !== undefined && input.tools.length > 0) variables['tools'] = input.tools;
    try {
      return this.template.render(variables);
    } catch (cause) {
      if (cause instanceof TesseraError) throw cause;
      throw new TesseraError('CHAT_TEMPLATE_ERROR', `chat template failed: ${errorMessage(cause)}`, { cause });
    }
  }

  private prepareMessage(message: ChatMessage): Record<string, unknown> {
    const prepared: Record<string, unknown> = { ...message, content: contentAsText(message.content) };
    if (message.reasoning_content === undefined || message.reasoning_content === null) delete prepared['reasoning_content'];
    if (message.tool_calls !== undefined) {
      prepared['tool_calls'] = message.tool_calls.map((call) => ({
        ...call,
        function: { ...call.function, arguments: this.prepareArguments(call.function.arguments) },
      }));
    }
    return prepared;
  }

  /** OpenAI sends arguments as a JSON string; templates that print `arguments | tojson` need the object. */
  private prepareArguments(argumentsValue: string | Record<string, unknown>): unknown {
    if (typeof argumentsValue !== 'string' || this.keepsStringArguments) return argumentsValue;
    try {
      const parsed: unknown = JSON.parse(argumentsValue);
      return parsed !== null && typeof parsed === 'object' ? parsed : argumentsValue;
    } catch {
      return argumentsValue;
    }
  }
}

/** Text parts joined; templates concatenate content as a string, and null would break them. */
function contentAsText(content: ChatMessage['content']): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is { type: 'text'; text: string } => part.type === 'text' && typeof part['text'] === 'string')
    .map((part) => part.text)
    .join('');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
