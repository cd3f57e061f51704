// Picks the tool-call format a model writes, from what its chat template teaches it.

import { hermesFormat } from './hermes.js';
import { llama3JsonFormat } from './llama3-json.js';
import { mistralFormat } from './mistral.js';
import type { ToolCallFormat } from './types.js';

const FORMATS: readonly { readonly matches: (template: string, architecture: string) => boolean; readonly format: ToolCallFormat }[] = [
  { matches: (template) => template.includes('<tool_call>'), format: hermesFormat },
  { matches: (template) => template.includes('[TOOL_CALLS]'), format: mistralFormat },
  { matches: (template, architecture) => template.includes('<|python_tag|>') || template.includes('<|start_header_id|>') || architecture === 'llama', format: llama3JsonFormat },
];

/** The format for a model; Hermes-style <tool_call> tags when nothing more specific is known. */
export function toolCallFormatFor(chatTemplate: string, architecture: string): ToolCallFormat {
  return FORMATS.find((entry) => entry.matches(chatTemplate, architecture))?.format ?? hermesFormat;
}
