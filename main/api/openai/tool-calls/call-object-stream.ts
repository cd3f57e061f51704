// scanCallObject for a call object that arrives piece by piece: the same answers after every
// piece, with work in proportion to the piece. The arguments are kept as they grow (a rope,
// never re-read) and each step says what was appended to them, so a long argument (a file
// an agent writes) streams out in linear time.

import { JsonStreamScanner } from './json-stream-scanner.js';
import type { CallUpdate, ParsedToolCall } from './types.js';

const ARGUMENT_KEYS = new Set(['arguments', 'parameters']);

const isJsonWhitespace = (char: string): boolean => char === ' ' || char === '\t' || char === '\n' || char === '\r';

export type CallObjectStep =
  | { readonly status: 'invalid' }
  /** Still being written; `call` is what the partial scan shows (undefined until the name is known). */
  | { readonly status: 'partial'; readonly call: ParsedToolCall | undefined; readonly argumentsGrowth: string | undefined }
  /** Complete: `rest` is the part of the last piece after the object. */
  | { readonly status: 'complete'; readonly call: ParsedToolCall; readonly argumentsGrowth: string | undefined; readonly rest: string };

/** Which first-level part of the object the scanner is in, and the text kept of it. */
type Part =
  | { readonly kind: 'none' }
  | { readonly kind: 'key'; readonly start: number; text: string }
  | { readonly kind: 'name-value'; readonly start: number; text: string }
  | { readonly kind: 'arguments-value'; readonly start: number }
  | { readonly kind: 'other-value' };

export class CallObjectStream {
  private readonly scanner = new JsonStreamScanner({
    keyStart: (at) => (this.part = { kind: 'key', start: at, text: '' }),
    keyEnd: (end) => {
      const part = this.part as Extract<Part, { kind: 'key' }>;
      this.key = JSON.parse(part.text + this.pieceSlice(part.start, end)) as string;
      this.part = { kind: 'none' };
    },
    valueStart: (at) => this.valueStarted(at),
    valueEnd: (end) => this.valueEnded(end),
  });
  /** Absolute index where the current piece starts, and the piece. */
  private pieceStart = 0;
  private piece = '';
  private opened = false;
  private failed = false;
  private part: Part = { kind: 'none' };
  private key = '';
  private name: string | undefined;
  /** Raw JSON text of the arguments so far (decoded when they were a complete string). */
  private arguments = '';
  private argumentsAreString = false;
  /** What this piece appended to `arguments`; undefined when they were replaced instead. */
  private growth: string | undefined = '';
  /** Whether the last step that showed a call showed the raw arguments (not '' for a string, not '{}' for none). */
  private reportedRaw = false;

  push(piece: string): CallObjectStep {
    this.piece = piece;
    this.growth = '';
    if (!this.opened) {
      // The object must open with '{' after optional whitespace.
      let i = 0;
      while (i < piece.length && isJsonWhitespace(piece[i]!)) i++;
      if (i < piece.length) {
        if (piece[i] !== '{') return { status: 'invalid' };
        this.opened = true;
      }
    }
    const status = this.scanner.push(piece);
    if (status !== 'complete') this.keepOpenPart();
    this.pieceStart += piece.length;
    if (status === 'invalid' || this.failed) return { status: 'invalid' };

    if (status === 'complete') {
      if (this.name === undefined) return { status: 'invalid' };
      const call = { name: this.name, arguments: this.arguments === '' ? '{}' : this.arguments };
      const rest = piece.slice(this.scanner.end - (this.pieceStart - piece.length));
      return { status: 'complete', call, argumentsGrowth: this.growthSinceReport(this.arguments !== ''), rest };
    }
    if (this.name === undefined) return { status: 'partial', call: undefined, argumentsGrowth: undefined };
    const call = { name: this.name, arguments: this.argumentsAreString ? '' : this.arguments };
    return { status: 'partial', call, argumentsGrowth: this.growthSinceReport(!this.argumentsAreString) };
  }

  /** The call update for index `index` from a step that shows one. */
  static update(index: number, call: ParsedToolCall, argumentsGrowth: string | undefined): CallUpdate {
    return argumentsGrowth === undefined ? { index, call } : { index, call, argumentsGrowth };
  }

  /**
   * What the shown arguments add to those shown last time, when that is known without comparing
   * them: both were the raw arguments and this piece only appended to them.
   */
  private growthSinceReport(showsRaw: boolean): string | undefined {
    const growth = this.reportedRaw && showsRaw ? this.growth : undefined;
    this.reportedRaw = showsRaw;
    return growth;
  }

  private valueStarted(at: number): void {
    if (this.key === 'name') this.part = { kind: 'name-value', start: at, text: '' };
    else if (ARGUMENT_KEYS.has(this.key)) {
      this.part = { kind: 'arguments-value', start: at };
      this.arguments = '';
      this.growth = undefined; // replaced, not grown
      this.argumentsAreString = this.piece[at - this.pieceStart] === '"';
    } else this.part = { kind: 'other-value' };
  }

  private valueEnded(end: number): void {
    const part = this.part;
    this.part = { kind: 'none' };
    if (part.kind === 'name-value') {
      const value = JSON.parse(part.text + this.pieceSlice(part.start, end)) as unknown;
      if (typeof value !== 'string') this.failed = true;
      else this.name = value;
    } else if (part.kind === 'arguments-value') {
      this.appendArguments(this.pieceSlice(part.start, end));
      if (this.argumentsAreString) {
        this.arguments = JSON.parse(this.arguments) as string;
        this.argumentsAreString = false;
        this.growth = undefined;
      }
    }
  }

  /** At the end of a piece, keep what it added to the part still open. */
  private keepOpenPart(): void {
    const part = this.part;
    const end = this.pieceStart + this.piece.length;
    if (part.kind === 'key' || part.kind === 'name-value') part.text += this.pieceSlice(part.start, end);
    else if (part.kind === 'arguments-value') this.appendArguments(this.pieceSlice(part.start, end));
  }

  private appendArguments(text: string): void {
    this.arguments += text;
    if (this.growth !== undefined) this.growth += text;
  }

  /** The current piece's text between two absolute indexes (from no earlier than the piece). */
  private pieceSlice(from: number, to: number): string {
    return this.piece.slice(Math.max(0, from - this.pieceStart), to - this.pieceStart);
  }
}
