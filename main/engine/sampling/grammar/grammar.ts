// A context-free grammar over Unicode code points, the form constrained decoding works on.
// JSON schemas (and the tool-call wrappers of each model family) compile into it; the
// matcher walks it one character at a time.

/** Matches one code point in any of the inclusive [low, high] ranges (or outside all, when negated). */
export interface CharElement {
  readonly kind: 'chars';
  /** Flat list of inclusive pairs: [low0, high0, low1, high1, …]. */
  readonly ranges: readonly number[];
  readonly negated: boolean;
}

export interface RuleElement {
  readonly kind: 'rule';
  readonly rule: number;
}

export type Element = CharElement | RuleElement;
export type Sequence = readonly Element[];

export interface Grammar {
  /** rules[id] lists the alternatives of rule `id`; an empty sequence matches nothing (ε). */
  readonly rules: readonly (readonly Sequence[])[];
  readonly names: readonly string[];
  readonly root: number;
}

export function charMatches(element: CharElement, codePoint: number): boolean {
  const ranges = element.ranges;
  let inside = false;
  for (let i = 0; i < ranges.length; i += 2) {
    if (codePoint >= ranges[i]! && codePoint <= ranges[i + 1]!) {
      inside = true;
      break;
    }
  }
  return inside !== element.negated;
}

/** Builds a grammar rule by rule. Rules may refer to rules defined later (recursion is fine, left recursion is not). */
export class GrammarBuilder {
  private readonly rules: (readonly Sequence[])[] = [];
  private readonly names: string[] = [];
  private readonly byName = new Map<string, number>();

  /** A rule id for `name`, reserved now and defined later with `define`. Same name, same id. */
  reserve(name: string): number {
    const existing = this.byName.get(name);
    if (existing !== undefined) return existing;
    const id = this.rules.length;
    this.rules.push([]);
    this.names.push(name);
    this.byName.set(name, id);
    return id;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  define(name: string, alternatives: readonly Sequence[]): RuleElement {
    const id = this.reserve(name);
    this.rules[id] = alternatives;
    return { kind: 'rule', rule: id };
  }

  /** A rule that is defined the first time it is asked for. */
  memo(name: string, build: () => readonly Sequence[]): RuleElement {
    if (this.byName.has(name)) return { kind: 'rule', rule: this.byName.get(name)! };
    const id = this.reserve(name);
    this.rules[id] = build();
    return { kind: 'rule', rule: id };
  }

  build(root: RuleElement): Grammar {
    return { rules: this.rules.slice(), names: this.names.slice(), root: root.rule };
  }
}

export function literal(text: string): Element[] {
  return Array.from(text, (ch) => chars([ch.codePointAt(0)!, ch.codePointAt(0)!]));
}

export function chars(ranges: readonly number[], negated = false): CharElement {
  return { kind: 'chars', ranges, negated };
}
