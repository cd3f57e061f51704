// Turns a chat request into the prompt text the model was trained on: its own chat template,
// with the tools passed in. A template that ignores `tools` (some Llama 3 packagings) gets the
// tool list and the call format it should answer in as a system message instead.

import type { ChatMessage as TemplateMessage, ChatTool } from '../../engine/tokenizer/chat-template.js';
import type { ChatMessage, ChatRequest } from './request.js';
import type { ServedModel } from './served-model.js';

export function renderPrompt(model: ServedModel, request: ChatRequest): string {
  const useTools = request.tools.length > 0 && request.toolChoice !== 'none';
  const tools: ChatTool[] = useTools
    ? request.tools.map((tool) => ({
        type: 'function',
        function: {
          name: tool.name,
          ...(tool.description === undefined ? {} : { description: tool.description }),
          parameters: tool.parameters as Record<string, unknown>,
        },
      }))
    : [];
  let messages = request.messages.map(toTemplateMessage);
  if (useTools && !templateRendersTools(model)) messages = withToolInstructions(messages, tools, model.toolFormat.name);
  return model.template.render({ messages, ...(tools.length > 0 ? { tools } : {}), addGenerationPrompt: true });
}

function toTemplateMessage(message: ChatMessage): TemplateMessage {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content ?? '',
        ...(message.toolCalls.length > 0
          ? { tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })) }
          : {}),
        ...(message.reasoning === undefined ? {} : { reasoning_content: message.reasoning }),
      };
    case 'tool':
      return { role: 'tool', content: message.content, tool_call_id: message.toolCallId, ...(message.name === undefined ? {} : { name: message.name }) };
    default: {
      const unreachable: never = message;
      return unreachable;
    }
  }
}

const rendersTools = new WeakMap<ServedModel, boolean>();

/** Whether the template shows the model its tools (checked once per model by rendering with and without). */
function templateRendersTools(model: ServedModel): boolean {
  let known = rendersTools.get(model);
  if (known === undefined) {
    const messages: TemplateMessage[] = [{ role: 'user', content: 'hi' }];
    const probe: ChatTool[] = [{ type: 'function', function: { name: 'tessera_probe_tool', parameters: { type: 'object' } } }];
    known = model.template.render({ messages, tools: probe }).includes('tessera_probe_tool');
    rendersTools.set(model, known);
  }
  return known;
}

const CALL_SHAPES: Readonly<Record<string, string>> = {
  hermes: 'To call a function, answer with <tool_call>{"name": "<function name>", "arguments": {<arguments>}}</tool_call>.',
  'llama3-json': 'To call a function, answer with only a JSON object of the form {"name": "<function name>", "parameters": {<arguments>}}.',
  mistral: 'To call functions, answer with [TOOL_CALLS] followed by a JSON list [{"name": "<function name>", "arguments": {<arguments>}}].',
};

function withToolInstructions(messages: TemplateMessage[], tools: readonly ChatTool[], format: string): TemplateMessage[] {
  const instructions = [
    'You can call these functions:',
    ...tools.map((tool) => JSON.stringify(tool.function)),
    CALL_SHAPES[format] ?? CALL_SHAPES.hermes!,
    'Otherwise, answer the user directly.',
  ].join('\n');
  const [first, ...rest] = messages;
  if (first?.role === 'system') return [{ role: 'system', content: `${String(first.content ?? '')}\n\n${instructions}` }, ...rest];
  return [{ role: 'system', content: instructions }, ...messages];
}
