// Constrained decoding at the token level: only tokens whose text keeps the output a valid
// prefix of the grammar may be sampled, and end-of-generation only where the output is
// complete. Near the token budget it steers towards the shortest completion, so that even a
// model with random weights ends with output that parses.

import type { Grammar } from './grammar.js';
import { GrammarMatcher, type Stack } from './matcher.js';

/** The text of each token id; undefined for tokens that can never appear under a grammar. */
export type TokenTexts = readonly (string | undefined)[];

/** Tokens grouped by their first code point, so a state rules out whole groups at once. */
export class TokenIndex {
  readonly byFirstCodePoint = new Map<number, number[]>();

  constructor(readonly texts: TokenTexts) {
    texts.forEach((text, id) => {
      if (text === undefined || text === '') return;
      const first = text.codePointAt(0)!;
      let group = this.byFirstCodePoint.get(first);
      if (group === undefined) this.byFirstCodePoint.set(first, (group = []));
      group.push(id);
    });
  }
}

/** Sampling attempts before falling back to scanning the allowed tokens in logit order. */
const MAX_REJECTIONS = 32;
/** Allowed-token masks remembered per constraint (a vocabulary-sized byte array each). */
const MAX_CACHED_MASKS = 64;
/** Start closing the output when the budget left is this close to the shortest completion. */
const CLOSING_MARGIN_TOKENS = 3;

export interface ConstrainedPickOptions {
  /** Samples a token id from logits (the request's sampler: temperature, top-p, …). */
  readonly sample: (logits: Float32Array) => number;
  /** Tokens that end generation (eos, eot, …). */
  readonly endTokens: readonly number[];
  /** Tokens still allowed by max_tokens, counting the one being chosen. */
  readonly remainingTokens: number;
}

export class GrammarConstraint {
  private readonly matcher: GrammarMatcher;
  private state: readonly Stack[];
  private readonly masks = new Map<string, Uint8Array>();

  constructor(
    grammar: Grammar,
    private readonly index: TokenIndex,
  ) {
    this.matcher = new GrammarMatcher(grammar);
    this.state = this.matcher.initial();
  }

  /** The output so far is complete. */
  get complete(): boolean {
    return this.matcher.canEnd(this.state);
  }

  /** Feeds text that was produced outside the constraint (e.g. a forced prefix). Returns false if it does not fit. */
  acceptText(text: string): boolean {
    const next = this.matcher.advanceText(this.state, text);
    if (next.length === 0) return false;
    this.state = next;
    return true;
  }

  /** Records the chosen token. */
  accept(token: number): void {
    const text = this.index.texts[token];
    if (text === undefined || !this.acceptText(text)) throw new Error(`token ${token} does not fit the grammar`);
  }

  allows(token: number, endTokens: readonly number[]): boolean {
    if (endTokens.includes(token)) return this.matcher.canEnd(this.state);
    const text = this.index.texts[token];
    if (text === undefined || text === '') return false;
    return this.matcher.advanceText(this.state, text).length > 0;
  }

  /**
   * Chooses the next token under the grammar. `logits` may be modified.
   * Returns an end token when the output is complete and nothing else may follow.
   */
  pick(logits: Float32Array, options: ConstrainedPickOptions): number {
    const { endTokens } = options;
    if (this.matcher.mustEnd(this.state)) return endTokens[0]!;
    const distance = this.matcher.distanceToEnd(this.state);
    if (options.remainingTokens <= distance + CLOSING_MARGIN_TOKENS) return this.closest(logits, endTokens);

    // A token may not take the output further from its end than the budget left can close
    // (every later token writes at least one character).
    const fits = (token: number): boolean => {
      if (endTokens.includes(token)) return this.matcher.canEnd(this.state);
      const after = this.matcher.advanceText(this.state, this.index.texts[token]!);
      return this.matcher.distanceToEnd(after) <= options.remainingTokens - 1;
    };
    // Mask what the grammar forbids, then let the request's sampler choose among the rest.
    const allowed = this.allowedMask(endTokens);
    for (let token = 0; token < logits.length; token++) if (allowed[token] === 0) logits[token] = -Infinity;
    for (let attempt = 0; attempt < MAX_REJECTIONS; attempt++) {
      const token = options.sample(logits);
      if (allowed[token] === 1 && fits(token)) return token;
      logits[token] = -Infinity;
    }
    let best = -1;
    for (let token = 0; token < logits.length; token++) {
      if (allowed[token] === 1 && (best < 0 || logits[token]! > logits[best]!) && fits(token)) best = token;
    }
    return best >= 0 ? best : this.closest(logits, endTokens);
  }

  /** allowedTokens as a mask over the vocabulary, remembered per grammar state (states recur, e.g. inside strings). */
  private allowedMask(endTokens: readonly number[]): Uint8Array {
    const key = this.state.map((stack) => stack?.key ?? '$').sort().join('|');
    let mask = this.masks.get(key);
    if (mask === undefined) {
      mask = new Uint8Array(this.index.texts.length + endTokens.length);
      for (const token of this.allowedTokens(endTokens)) mask[token] = 1;
      if (this.masks.size >= MAX_CACHED_MASKS) this.masks.delete(this.masks.keys().next().value!);
      this.masks.set(key, mask);
    }
    return mask;
  }

  /** Every token the grammar allows next (end tokens when complete). */
  allowedTokens(endTokens: readonly number[]): number[] {
    const allowed: number[] = this.matcher.canEnd(this.state) ? [...endTokens] : [];
    for (const [firstCodePoint, group] of this.index.byFirstCodePoint) {
      const afterFirst = this.matcher.advance(this.state, firstCodePoint);
      if (afterFirst.length === 0) continue;
      for (const token of group) {
        const text = this.index.texts[token]!;
        const rest = text.slice(String.fromCodePoint(firstCodePoint).length);
        if (rest === '' || this.matcher.advanceText(afterFirst, rest).length > 0) allowed.push(token);
      }
    }
    return allowed;
  }

  /** The allowed token that brings the end nearest (the likelier one on ties); an end token once complete. */
  private closest(logits: Float32Array, endTokens: readonly number[]): number {
    if (this.matcher.canEnd(this.state)) return endTokens[0]!;
    let best = -1;
    let bestDistance = Infinity;
    for (const token of this.allowedTokens(endTokens)) {
      const distance = this.matcher.distanceToEnd(this.matcher.advanceText(this.state, this.index.texts[token]!));
      if (distance < bestDistance || (distance === bestDistance && logits[token]! > logits[best]!)) {
        best = token;
        bestDistance = distance;
      }
    }
    return best;
  }
}
