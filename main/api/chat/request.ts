// The one internal chat request every API dialect converts into (OpenAI chat and completions
// today; Anthropic, Ollama and Responses later). Generation, templates, grammars and tool-call
// parsing see only this.

import type { JsonSchema } from '../../engine/sampling/grammar/json-schema.js';

export interface ToolCallInMessage {
  readonly id: string;
  readonly name: string;
  /** JSON text, as OpenAI carries it. */
  readonly arguments: string;
}

export type ChatMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string | null; readonly toolCalls: readonly ToolCallInMessage[]; readonly reasoning?: string }
  | { readonly role: 'tool'; readonly content: string; readonly toolCallId: string; readonly name?: string };

export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  readonly parameters: JsonSchema;
  /** Arguments must match `parameters` exactly: sampling is constrained by its grammar. */
  readonly strict: boolean;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { readonly name: string };

export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | { readonly type: 'json_schema'; readonly name: string; readonly schema: JsonSchema; readonly strict: boolean };

export interface SamplingSettings {
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly minP: number;
  readonly presencePenalty: number;
  readonly frequencyPenalty: number;
  readonly repetitionPenalty: number;
  readonly seed?: number;
}

export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly tools: readonly ToolDefinition[];
  readonly toolChoice: ToolChoice;
  readonly parallelToolCalls: boolean;
  readonly responseFormat: ResponseFormat;
  readonly sampling: SamplingSettings;
  /** Undefined: until the context is full. */
  readonly maxTokens?: number;
  readonly stop: readonly string[];
  /** Top alternatives to report per token; undefined when logprobs are not asked for. */
  readonly logprobs?: { readonly top: number };
}
