// scanJsonValue for text that arrives piece by piece: the scan resumes where the last piece
// ended (inside a string, a number, an object…), so a long tool-call argument costs work in
// proportion to each new piece. After every piece its status is what scanJsonValue would say of
// the whole text so far; it also reports where the top-level object's keys and values start
// and end, which is what reading a call object needs.

type Frame =
  | { kind: 'object'; expect: 'key-or-end' | 'key' | 'colon' | 'value' | 'comma-or-end' }
  | { kind: 'array'; expect: 'value-or-end' | 'value' | 'comma-or-end' };

/** Where the scanner is inside a scalar that a piece may have cut. */
type Inside =
  | { readonly kind: 'none' }
  | { readonly kind: 'string'; escape: 'none' | 'backslash' | number }
  /** Numbers and literals are short: their text is kept and looked at again with each piece. */
  | { readonly kind: 'number'; text: string }
  | { readonly kind: 'literal'; text: string };

/** What happens at the first level inside the top-level object, for a call-object reader. */
export interface TopLevelListener {
  /** A key (or value) of the top-level object starts at absolute index `at`. */
  keyStart?(at: number): void;
  keyEnd?(end: number): void;
  valueStart?(at: number): void;
  valueEnd?(end: number): void;
}

const LITERALS = ['true', 'false', 'null'];
const NUMBER_PREFIX = /^-?(0|[1-9]\d*)?(\.\d*)?([eE][+-]?\d*)?/;
const NUMBER_WHOLE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const HEX = /^[0-9a-fA-F]$/;

const isJsonWhitespace = (char: string): boolean => char === ' ' || char === '\t' || char === '\n' || char === '\r';

export class JsonStreamScanner {
  private readonly stack: Frame[] = [];
  private inside: Inside = { kind: 'none' };
  /** Absolute index of the next character to read. */
  private position = 0;
  private sawValue = false;
  private state: 'partial' | 'complete' | 'invalid' = 'partial';
  /** With status 'complete': the index just past the value. */
  end = -1;
  /** Start of the scalar being read (absolute), for the listener. */
  private scalarStart = -1;

  constructor(private readonly listener: TopLevelListener = {}) {}

  get status(): 'partial' | 'complete' | 'invalid' {
    return this.state;
  }

  /** Reads the next piece; returns the status of the whole text so far. */
  push(piece: string): 'partial' | 'complete' | 'invalid' {
    let i = 0;
    while (i < piece.length && this.state === 'partial') {
      i = this.step(piece, i);
    }
    return this.state;
  }

  /** Reads from piece[i]; returns where to go on. */
  private step(piece: string, i: number): number {
    const inside = this.inside;
    if (inside.kind === 'string') return this.stepString(piece, i, inside);
    if (inside.kind === 'number') return this.stepNumber(piece, i, inside);
    if (inside.kind === 'literal') return this.stepLiteral(piece, i, inside);

    const char = piece[i]!;
    const at = this.position;
    if (isJsonWhitespace(char)) return this.advance(i, 1);
    const top = this.stack[this.stack.length - 1];

    if (top?.kind === 'object' && top.expect !== 'value') {
      if (top.expect === 'colon') {
        if (char !== ':') return this.fail(i);
        top.expect = 'value';
        return this.advance(i, 1);
      }
      if (top.expect === 'comma-or-end') {
        if (char === ',') top.expect = 'key';
        else if (char === '}') this.closeContainer(at + 1);
        else return this.fail(i);
        return this.advance(i, 1);
      }
      if (char === '}' && top.expect === 'key-or-end') {
        this.closeContainer(at + 1);
        return this.advance(i, 1);
      }
      if (char !== '"') return this.fail(i);
      if (this.stack.length === 1) this.listener.keyStart?.(at);
      this.inside = { kind: 'string', escape: 'none' };
      this.scalarStart = at;
      return this.advance(i, 1);
    }

    if (top?.kind === 'array' && top.expect === 'comma-or-end') {
      if (char === ',') top.expect = 'value';
      else if (char === ']') this.closeContainer(at + 1);
      else return this.fail(i);
      return this.advance(i, 1);
    }
    if (top?.kind === 'array' && char === ']' && top.expect === 'value-or-end') {
      this.closeContainer(at + 1);
      return this.advance(i, 1);
    }

    // A value is expected here.
    this.sawValue = true;
    if (this.stack.length === 1 && top?.kind === 'object') this.listener.valueStart?.(at);
    if (char === '{') {
      this.stack.push({ kind: 'object', expect: 'key-or-end' });
      return this.advance(i, 1);
    }
    if (char === '[') {
      this.stack.push({ kind: 'array', expect: 'value-or-end' });
      return this.advance(i, 1);
    }
    this.scalarStart = at;
    if (char === '"') {
      this.inside = { kind: 'string', escape: 'none' };
      return this.advance(i, 1);
    }
    if (char === '-' || (char >= '0' && char <= '9')) {
      this.inside = { kind: 'number', text: '' };
      return i;
    }
    if (!LITERALS.some((word) => word[0] === char)) return this.fail(i);
    this.inside = { kind: 'literal', text: '' };
    return i;
  }

  private stepString(piece: string, i: number, inside: Extract<Inside, { kind: 'string' }>): number {
    for (; i < piece.length; i++, this.position++) {
      const char = piece[i]!;
      const escape = inside.escape;
      if (escape === 'none') {
        const code = char.charCodeAt(0);
        if (code === 0x22) {
          this.position++;
          this.scalarEnded(this.position);
          return i + 1;
        }
        if (code < 0x20) return this.fail(i); // raw control characters are not allowed in JSON strings
        if (code === 0x5c) inside.escape = 'backslash';
      } else if (escape === 'backslash') {
        if (char === 'u') inside.escape = 0;
        else if ('"\\/bfnrt'.includes(char)) inside.escape = 'none';
        else return this.fail(i);
      } else {
        if (!HEX.test(char)) return this.fail(i);
        inside.escape = escape === 3 ? 'none' : escape + 1;
      }
    }
    return i;
  }

  private stepNumber(piece: string, i: number, inside: Extract<Inside, { kind: 'number' }>): number {
    // What scanJsonValue's number reader makes of text[start..]: only the number and one more character matter.
    const before = inside.text.length;
    const text = inside.text + piece.slice(i);
    const written = NUMBER_PREFIX.exec(text)?.[0] ?? '';
    if (written === '' || written === '-') {
      if (written.length < text.length) return this.fail(i);
      inside.text = text;
      return this.advance(i, piece.length - i);
    }
    if (written.length === text.length) {
      inside.text = text;
      return this.advance(i, piece.length - i);
    }
    if (!NUMBER_WHOLE.test(written)) return this.fail(i);
    const used = written.length - before;
    this.position += used;
    this.scalarEnded(this.position);
    return i + used;
  }

  private stepLiteral(piece: string, i: number, inside: Extract<Inside, { kind: 'literal' }>): number {
    const before = inside.text.length;
    const text = inside.text + piece.slice(i, i + 5);
    const literal = LITERALS.find((word) => word.startsWith(text.slice(0, word.length)) && word[0] === text[0]);
    if (literal === undefined) return this.fail(i);
    const written = text.slice(0, literal.length);
    if (written.length < literal.length) {
      inside.text = text;
      return this.advance(i, piece.length - i);
    }
    if (written !== literal) return this.fail(i);
    const used = literal.length - before;
    this.position += used;
    this.scalarEnded(this.position);
    return i + used;
  }

  /** A string, number or literal ended at `end` (absolute). */
  private scalarEnded(end: number): void {
    const wasKey = this.inside.kind === 'string' && this.isKeyPosition();
    this.inside = { kind: 'none' };
    if (wasKey) {
      // A key of an object: now its colon.
      const top = this.stack[this.stack.length - 1] as Extract<Frame, { kind: 'object' }>;
      top.expect = 'colon';
      if (this.stack.length === 1) this.listener.keyEnd?.(end);
      return;
    }
    this.valueEnded(end);
  }

  /** Whether the string being read sits where the enclosing object expects a key. */
  private isKeyPosition(): boolean {
    const top = this.stack[this.stack.length - 1];
    return top?.kind === 'object' && (top.expect === 'key' || top.expect === 'key-or-end');
  }

  private closeContainer(end: number): void {
    this.stack.pop();
    this.valueEnded(end);
  }

  /** After a value closes: tell the enclosing frame, or finish when it was the top-level value. */
  private valueEnded(end: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.state = 'complete';
      this.end = end;
      return;
    }
    if (this.stack.length === 1 && top.kind === 'object') this.listener.valueEnd?.(end);
    top.expect = 'comma-or-end';
  }

  private advance(i: number, count: number): number {
    this.position += count;
    return i + count;
  }

  private fail(i: number): number {
    this.state = 'invalid';
    return i;
  }

  /** Whether no value has started yet (only whitespace so far). */
  get empty(): boolean {
    return !this.sawValue;
  }
}
