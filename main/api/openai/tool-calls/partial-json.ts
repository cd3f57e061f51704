// Scans JSON that a model is still writing. A tool call's arguments stream out token by
// token, so the parser must tell "complete", "a valid prefix so far" and "not JSON" apart,
// and for a prefix know what would close it (used when generation stops mid-call, so the
// arguments we hand out always parse).

export type JsonScan =
  /** text[start, end) is one complete JSON value. */
  | { readonly status: 'complete'; readonly end: number }
  /** text[start..] is a valid prefix of a JSON value; text + closer is valid JSON. */
  | { readonly status: 'partial'; readonly closer: string }
  /** text is not JSON at `at`. */
  | { readonly status: 'invalid'; readonly at: number };

type Frame =
  | { kind: 'object'; expect: 'key-or-end' | 'key' | 'colon' | 'value' | 'comma-or-end' }
  | { kind: 'array'; expect: 'value-or-end' | 'value' | 'comma-or-end' };

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const LITERALS = ['true', 'false', 'null'];

/** Scans one JSON value starting at `start` (leading whitespace allowed). */
export function scanJsonValue(text: string, start = 0): JsonScan {
  const stack: Frame[] = [];
  let i = start;
  let sawValue = false;

  // After a scalar or container closes: tell the enclosing frame a value ended.
  const valueEnded = (): boolean => {
    const top = stack[stack.length - 1];
    if (top === undefined) return true; // the top-level value is complete
    top.expect = 'comma-or-end';
    return false;
  };

  while (i < text.length) {
    const ch = text[i]!;
    if (WHITESPACE.has(ch)) {
      i++;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined && sawValue) return { status: 'complete', end: i };

    if (top?.kind === 'object' && top.expect !== 'value') {
      if (top.expect === 'colon') {
        if (ch !== ':') return { status: 'invalid', at: i };
        top.expect = 'value';
        i++;
        continue;
      }
      if (top.expect === 'comma-or-end') {
        if (ch === ',') top.expect = 'key';
        else if (ch === '}') {
          stack.pop();
          if (valueEnded()) return { status: 'complete', end: i + 1 };
        } else return { status: 'invalid', at: i };
        i++;
        continue;
      }
      // expecting a key (or '}' right after '{')
      if (ch === '}' && top.expect === 'key-or-end') {
        stack.pop();
        if (valueEnded()) return { status: 'complete', end: i + 1 };
        i++;
        continue;
      }
      if (ch !== '"') return { status: 'invalid', at: i };
      const end = scanString(text, i);
      if (end < 0) return partial(text, i, stack, 'key');
      if (end === Infinity) return { status: 'invalid', at: i };
      top.expect = 'colon';
      i = end;
      continue;
    }

    if (top?.kind === 'array' && top.expect === 'comma-or-end') {
      if (ch === ',') top.expect = 'value';
      else if (ch === ']') {
        stack.pop();
        if (valueEnded()) return { status: 'complete', end: i + 1 };
      } else return { status: 'invalid', at: i };
      i++;
      continue;
    }
    if (top?.kind === 'array' && ch === ']' && top.expect === 'value-or-end') {
      stack.pop();
      if (valueEnded()) return { status: 'complete', end: i + 1 };
      i++;
      continue;
    }

    // A value is expected here.
    sawValue = true;
    if (ch === '{') {
      stack.push({ kind: 'object', expect: 'key-or-end' });
      i++;
      continue;
    }
    if (ch === '[') {
      stack.push({ kind: 'array', expect: 'value-or-end' });
      i++;
      continue;
    }
    let end: number;
    if (ch === '"') {
      end = scanString(text, i);
      if (end === Infinity) return { status: 'invalid', at: i };
      if (end < 0) return partial(text, i, stack, 'string');
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      end = scanNumber(text, i);
      if (end < 0) return { status: 'invalid', at: i };
      if (end === text.length) return partial(text, i, stack, 'number');
    } else {
      const literal = LITERALS.find((word) => word.startsWith(text.slice(i, i + word.length)) && word[0] === ch);
      if (literal === undefined) return { status: 'invalid', at: i };
      const written = text.slice(i, i + literal.length);
      if (written.length < literal.length) return partial(text, i, stack, 'literal', literal.slice(written.length));
      if (written !== literal) return { status: 'invalid', at: i };
      end = i + literal.length;
    }
    i = end;
    if (valueEnded()) return { status: 'complete', end };
  }

  if (!sawValue) return { status: 'partial', closer: 'null' };
  return partial(text, text.length, stack, 'between');
}

/** Parses text that must be exactly one JSON value (surrounding whitespace allowed). */
export function parseCompleteJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const scan = scanJsonValue(text);
  if (scan.status !== 'complete' || text.slice(scan.end).trim() !== '') return { ok: false };
  return { ok: true, value: JSON.parse(text) };
}

/**
 * Closes a valid prefix: `text` + result parses. Used only where a stream ends mid-value.
 * Returns undefined when the text is not a JSON prefix at all.
 */
export function closeJson(text: string): string | undefined {
  const scan = scanJsonValue(text);
  if (scan.status === 'invalid') return undefined;
  if (scan.status === 'complete') return '';
  return scan.closer;
}

/** Index just past the closing quote; -1 when the string is unterminated; Infinity when malformed. */
function scanString(text: string, quote: number): number {
  for (let i = quote + 1; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) return i + 1;
    if (ch < 0x20) return Infinity; // raw control characters are not allowed in JSON strings
    if (ch === 0x5c) {
      const next = text[i + 1];
      if (next === undefined) return -1;
      if (next === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]*$/.test(hex)) return Infinity;
        if (hex.length < 4) return -1;
        i += 5;
      } else if ('"\\/bfnrt'.includes(next)) i++;
      else return Infinity;
    }
  }
  return -1;
}

/** Index past a number's last character; -1 when it is malformed before the end of text. */
function scanNumber(text: string, start: number): number {
  const match = /^-?(0|[1-9]\d*)?(\.\d*)?([eE][+-]?\d*)?/.exec(text.slice(start));
  const written = match?.[0] ?? '';
  if (written === '' || written === '-') return start + written.length === text.length ? text.length : -1;
  const end = start + written.length;
  if (end < text.length && !/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(written)) return -1;
  return end;
}

function partial(
  text: string,
  at: number,
  stack: Frame[],
  inside: 'key' | 'string' | 'number' | 'literal' | 'between',
  literalRest = '',
): JsonScan {
  let closer = '';
  const top = stack[stack.length - 1];
  if (inside === 'key') closer += unterminatedStringCloser(text, at) + ': null';
  else if (inside === 'string') closer += unterminatedStringCloser(text, at);
  else if (inside === 'literal') closer += literalRest;
  else if (inside === 'number') closer += numberCloser(text.slice(at));
  else if (top?.kind === 'object') {
    closer += { 'key-or-end': '', key: '"": null', colon: ': null', value: 'null', 'comma-or-end': '' }[top.expect];
  } else if (top?.kind === 'array') {
    closer += { 'value-or-end': '', value: 'null', 'comma-or-end': '' }[top.expect];
  }
  for (let depth = stack.length - 1; depth >= 0; depth--) closer += stack[depth]!.kind === 'object' ? '}' : ']';
  return { status: 'partial', closer };
}

function unterminatedStringCloser(text: string, quote: number): string {
  const body = text.slice(quote + 1);
  // A cut escape sequence (an odd run of backslashes at the end, or a short \u): finish it
  // harmlessly before closing the string.
  const escape = /(\\+)(u[0-9a-fA-F]{0,3})?$/.exec(body);
  if (escape !== null && escape[1]!.length % 2 === 1) {
    if (escape[2] === undefined) return '\\"';
    return '0'.repeat(5 - escape[2].length) + '"';
  }
  return '"';
}

function numberCloser(written: string): string {
  if (written === '-' || /[.eE+-]$/.test(written)) return '0';
  return '';
}
