// Walks a grammar one code point at a time. A state is the set of ways the text so far can
// continue: each is a stack of positions (rule, alternative, element index), the top always a
// character element, or `null` when the text so far is a complete sentence. States are
// immutable, so trying a token's characters never disturbs the state it started from.

import { charMatches, type CharElement, type Grammar } from './grammar.js';

interface Frame {
  readonly rule: number;
  readonly alternative: number;
  readonly index: number;
  /** Where to go on when this sequence ends; null: the end of the sentence. */
  readonly next: Frame | null;
  /** Identity of the whole stack, for de-duplicating states. */
  readonly key: string;
}

export type Stack = Frame | null;

export class GrammarMatcher {
  private readonly minLength: number[];

  constructor(readonly grammar: Grammar) {
    this.minLength = minimumLengths(grammar);
  }

  /** The state before any text. */
  initial(): readonly Stack[] {
    const out = new Map<string, Stack>();
    this.pushAlternatives(this.grammar.root, null, out);
    return [...out.values()];
  }

  /** The state after `codePoint`; an empty state means the character is not allowed. */
  advance(state: readonly Stack[], codePoint: number): readonly Stack[] {
    const out = new Map<string, Stack>();
    for (const stack of state) {
      if (stack === null) continue;
      const element = this.grammar.rules[stack.rule]![stack.alternative]![stack.index] as CharElement;
      if (charMatches(element, codePoint)) this.expand(this.frame(stack.rule, stack.alternative, stack.index + 1, stack.next), out);
    }
    return [...out.values()];
  }

  /** The state after every character of `text`, or an empty state. */
  advanceText(state: readonly Stack[], text: string): readonly Stack[] {
    for (const ch of text) {
      state = this.advance(state, ch.codePointAt(0)!);
      if (state.length === 0) break;
    }
    return state;
  }

  /** The text so far is a complete sentence of the grammar. */
  canEnd(state: readonly Stack[]): boolean {
    return state.includes(null);
  }

  /** The text so far is complete and nothing can follow it. */
  mustEnd(state: readonly Stack[]): boolean {
    return state.length === 1 && state[0] === null;
  }

  /** The fewest characters that complete the sentence from this state (Infinity if none). */
  distanceToEnd(state: readonly Stack[]): number {
    let best = Infinity;
    for (const stack of state) best = Math.min(best, this.remaining(stack));
    return best;
  }

  private remaining(stack: Stack): number {
    let total = 0;
    for (let frame = stack; frame !== null; frame = frame.next) {
      const sequence = this.grammar.rules[frame.rule]![frame.alternative]!;
      for (let i = frame.index; i < sequence.length; i++) {
        const element = sequence[i]!;
        total += element.kind === 'chars' ? 1 : this.minLength[element.rule]!;
      }
    }
    return total;
  }

  private frame(rule: number, alternative: number, index: number, next: Frame | null): Frame | null {
    // A finished sequence is its continuation: keeps right-recursive repetition from growing the stack.
    if (index >= this.grammar.rules[rule]![alternative]!.length) return next;
    return { rule, alternative, index, next, key: `${rule}.${alternative}.${index}/${next?.key ?? ''}` };
  }

  private pushAlternatives(rule: number, next: Frame | null, out: Map<string, Stack>): void {
    const alternatives = this.grammar.rules[rule]!;
    for (let alternative = 0; alternative < alternatives.length; alternative++) {
      this.expand(this.frame(rule, alternative, 0, next), out);
    }
  }

  /** Resolves rule references until every stack's top is a character element (or the end). */
  private expand(stack: Stack, out: Map<string, Stack>): void {
    if (stack === null) {
      out.set('', null);
      return;
    }
    const element = this.grammar.rules[stack.rule]![stack.alternative]![stack.index]!;
    if (element.kind === 'chars') {
      out.set(stack.key, stack);
      return;
    }
    this.pushAlternatives(element.rule, this.frame(stack.rule, stack.alternative, stack.index + 1, stack.next), out);
  }
}

/** For every rule, the length of its shortest sentence (a fixed point; Infinity for rules that never end). */
function minimumLengths(grammar: Grammar): number[] {
  const lengths = grammar.rules.map(() => Infinity);
  for (let changed = true; changed; ) {
    changed = false;
    grammar.rules.forEach((alternatives, rule) => {
      for (const sequence of alternatives) {
        let total = 0;
        for (const element of sequence) total += element.kind === 'chars' ? 1 : lengths[element.rule]!;
        if (total < lengths[rule]!) {
          lengths[rule] = total;
          changed = true;
        }
      }
    });
  }
  return lengths;
}
