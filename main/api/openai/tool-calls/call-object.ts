// Reads the `{"name": …, "arguments": {…}}` object that most model families write for one
// tool call (Llama 3 says "parameters"), while it may still be incomplete. The arguments
// are kept as their raw JSON text so that streamed fragments concatenate to the final value.

import { closeJson, scanJsonValue } from './partial-json.js';
import type { ParsedToolCall } from './types.js';

export type CallObjectScan =
  | {
      readonly status: 'complete';
      readonly name: string;
      /** Raw JSON text of the arguments ("{}" when the object had none). */
      readonly arguments: string;
      /** Index just past the object's closing brace. */
      readonly end: number;
    }
  | {
      readonly status: 'partial';
      /** Known once the name string is complete. */
      readonly name: string | undefined;
      /** Raw JSON text of the arguments written so far (a valid prefix), '' before they start. */
      readonly arguments: string;
      /** What closes the arguments prefix into valid JSON ('' when they are complete). */
      readonly argumentsCloser: string;
      /** Arguments written as a JSON-encoded string: they can be handed out only when complete. */
      readonly argumentsAreString: boolean;
    }
  | { readonly status: 'invalid' };

const ARGUMENT_KEYS = new Set(['arguments', 'parameters']);

/** Scans a call object starting at `start` (leading whitespace allowed). */
export function scanCallObject(text: string, start: number): CallObjectScan {
  let i = skipWhitespace(text, start);
  if (i >= text.length) return partialResult(undefined, '', '', false);
  if (text[i] !== '{') return { status: 'invalid' };
  const whole = scanJsonValue(text, i);
  if (whole.status === 'invalid') return { status: 'invalid' };

  let name: string | undefined;
  let args = '';
  let argsCloser = '';
  let argsAreString = false;
  i++;
  for (;;) {
    i = skipWhitespace(text, i);
    if (i >= text.length) break;
    if (text[i] === '}') break;
    if (text[i] === ',') {
      i = skipWhitespace(text, i + 1);
      if (i >= text.length) break;
    }
    const key = scanJsonValue(text, i);
    if (key.status !== 'complete') break;
    const keyName = JSON.parse(text.slice(i, key.end)) as unknown;
    if (typeof keyName !== 'string') return { status: 'invalid' };
    i = skipWhitespace(text, key.end);
    if (i >= text.length || text[i] !== ':') break;
    i = skipWhitespace(text, i + 1);
    if (i >= text.length) break;
    const value = scanJsonValue(text, i);
    if (value.status === 'invalid') return { status: 'invalid' };
    const valueEnd = value.status === 'complete' ? value.end : text.length;
    const raw = text.slice(i, valueEnd);
    if (keyName === 'name' && value.status === 'complete') {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed !== 'string') return { status: 'invalid' };
      name = parsed;
    } else if (ARGUMENT_KEYS.has(keyName)) {
      argsAreString = raw.startsWith('"');
      if (argsAreString && value.status === 'complete') {
        args = JSON.parse(raw) as string;
        argsAreString = false;
      } else args = raw;
      argsCloser = value.status === 'partial' ? value.closer : '';
    }
    if (value.status !== 'complete') break;
    i = valueEnd;
  }

  if (whole.status === 'complete') {
    if (name === undefined) return { status: 'invalid' };
    return { status: 'complete', name, arguments: args === '' ? '{}' : args, end: whole.end };
  }
  return partialResult(name, args, argsCloser, argsAreString);
}

function partialResult(name: string | undefined, args: string, closer: string, argsAreString: boolean): CallObjectScan {
  return { status: 'partial', name, arguments: args, argumentsCloser: closer, argumentsAreString: argsAreString };
}

export function skipWhitespace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\t' || text[i] === '\r')) i++;
  return i;
}

/**
 * The call a partial scan stands for: while streaming, the arguments written so far (none
 * while they are a JSON-encoded string, which can only be decoded whole); at the end of
 * generation, the arguments closed so that they parse.
 */
export function callSoFar(
  scan: { arguments: string; argumentsCloser: string; argumentsAreString: boolean },
  name: string,
  isPartial: boolean,
): ParsedToolCall {
  if (isPartial) return { name, arguments: scan.argumentsAreString ? '' : scan.arguments };
  if (scan.argumentsAreString || scan.arguments === '') return { name, arguments: '{}' };
  const completed = scan.arguments + scan.argumentsCloser;
  return { name, arguments: closeJson(completed) === '' ? completed : '{}' };
}
