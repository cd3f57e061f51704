// The grammar an answer must follow, if any: a forced tool call in the model family's own
// markup (tool_choice "required" or a named function), or JSON for response_format.

import type { Grammar, Sequence } from '../../engine/sampling/grammar/grammar.js';
import { literal } from '../../engine/sampling/grammar/grammar.js';
import { grammarForAnyJsonObject, grammarFromJsonSchema, SchemaCompiler } from '../../engine/sampling/grammar/json-schema.js';
import type { ChatRequest, ToolDefinition } from './request.js';

/** How each tool-call format wraps calls: the text around one call object and between calls. */
const CALL_WRAPPERS: Readonly<Record<string, { before: string; after: string; separator: string; argumentsKey: string; open?: string; close?: string }>> = {
  hermes: { before: '<tool_call>\n', after: '\n</tool_call>', separator: '\n', argumentsKey: 'arguments' },
  'llama3-json': { before: '', after: '', separator: '; ', argumentsKey: 'parameters' },
  mistral: { before: '', after: '', separator: ', ', argumentsKey: 'arguments', open: '[TOOL_CALLS][', close: ']' },
};

/** Parallel calls are bounded so that a forced call cannot repeat until the budget runs out. */
const MAX_FORCED_PARALLEL_CALLS = 4;

export function outputGrammarFor(request: ChatRequest, toolFormat: string): Grammar | undefined {
  const choice = request.toolChoice;
  if (choice === 'required' || typeof choice === 'object') {
    const tools = typeof choice === 'object' ? request.tools.filter((tool) => tool.name === choice.name) : request.tools;
    return toolCallGrammar(toolFormat, tools, request.parallelToolCalls && typeof choice !== 'object');
  }
  if (request.responseFormat.type === 'json_object') return grammarForAnyJsonObject();
  if (request.responseFormat.type === 'json_schema') return grammarFromJsonSchema(request.responseFormat.schema);
  return undefined;
}

export function toolCallGrammar(toolFormat: string, tools: readonly ToolDefinition[], parallel: boolean): Grammar {
  const wrapper = CALL_WRAPPERS[toolFormat] ?? CALL_WRAPPERS.hermes!;
  const compiler = new SchemaCompiler({});
  const calls: Sequence[] = tools.map((tool) => [
    ...literal(`${wrapper.before}{"name": ${JSON.stringify(tool.name)}, "${wrapper.argumentsKey}": `),
    // Each tool's parameters are a schema document of their own ($defs resolve within it).
    compiler.document(tool.parameters),
    ...literal(`}${wrapper.after}`),
  ]);
  const call = compiler.builder.define('call', calls);
  const more = compiler.builder.define('more-calls', parallel ? repeatAlternatives(compiler, call, wrapper.separator) : [[]]);
  const root = compiler.builder.define('tool-calls', [[...literal(wrapper.open ?? ''), call, more, ...literal(wrapper.close ?? '')]]);
  return compiler.builder.build(root);
}

function repeatAlternatives(compiler: SchemaCompiler, call: { kind: 'rule'; rule: number }, separator: string): Sequence[] {
  let tail = compiler.builder.define('more-calls-0', [[]]);
  for (let left = 1; left < MAX_FORCED_PARALLEL_CALLS; left++) {
    tail = compiler.builder.define(`more-calls-${left}`, [[...literal(separator), call, tail], []]);
  }
  return [[tail]];
}
