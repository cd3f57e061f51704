// BPE merge ranks keyed by the ids of the two tokens a merge joins, in one typed array. A Map
// keyed by 'left right' strings holds a string per merge besides its hash table (~12 MiB for
// Qwen's 151 000 merges); this is 16 bytes a slot (~4 MiB), and a lookup builds no string.
//
// A merge that ids cannot key (a side that is not a token, or a text with more than one space,
// which does not say where its left side ends) stays in a Map by text; the vocabularies we know
// have none. Between them the two answer exactly what a Map of every merge string answered.

import { mixHash, type TokenIds } from './token-ids.js';

/** Per slot: left id (EMPTY: free slot), right id, rank, id of the token the merge makes (-1: none). */
const FIELDS = 4;
const EMPTY = -1;
/** Slots per merge, at least: probe runs stay short (a load of at most 3/4). */
const SLOTS_PER_MERGE = 4 / 3;

export class MergeTable {
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Merges ids cannot key, by their `left right` text (first rank wins). */
  private readonly byText = new Map<string, number>();

  /** `merges[rank]` is `left + ' ' + right`; a merge listed twice keeps its first rank. */
  constructor(merges: readonly string[], ids: TokenIds) {
    let capacity = 16;
    while (capacity < merges.length * SLOTS_PER_MERGE) capacity *= 2;
    this.slots = new Int32Array(capacity * FIELDS).fill(EMPTY);
    this.mask = capacity - 1;
    merges.forEach((merge, rank) => {
      const space = merge.indexOf(' ');
      // Never equal to a 'left right' key, which always has a space.
      if (space < 0) return;
      const leftText = merge.slice(0, space);
      const rightText = merge.slice(space + 1);
      const left = rightText.includes(' ') ? undefined : ids.get(leftText);
      const right = left === undefined ? undefined : ids.get(rightText);
      if (left === undefined || right === undefined) {
        if (!this.byText.has(merge)) this.byText.set(merge, rank);
        return;
      }
      this.insert(left, right, rank, ids.getPair(leftText, rightText) ?? -1);
    });
  }

  /** Whether some merge can only be found by text (rankOfText); false for the vocabularies we know. */
  get hasTextMerges(): boolean {
    return this.byText.size > 0;
  }

  /** The slot of the merge of tokens `left` and `right` (-1 when there is none or either is -1). */
  find(left: number, right: number): number {
    if (left < 0 || right < 0) return -1;
    const slots = this.slots;
    for (let slot = hashPair(left, right) & this.mask; ; slot = (slot + 1) & this.mask) {
      const base = slot * FIELDS;
      const heldLeft = slots[base]!;
      if (heldLeft === EMPTY) return -1;
      if (heldLeft === left && slots[base + 1] === right) return slot;
    }
  }

  rankAt(slot: number): number {
    return this.slots[slot * FIELDS + 2]!;
  }

  /** The id of the token the merge in `slot` makes; -1 when its text is no token. */
  madeAt(slot: number): number {
    return this.slots[slot * FIELDS + 3]!;
  }

  /** The rank of the merge `left right` among those ids cannot key (see hasTextMerges). */
  rankOfText(left: string, right: string): number | undefined {
    return this.byText.get(`${left} ${right}`);
  }

  private insert(left: number, right: number, rank: number, made: number): void {
    const slots = this.slots;
    for (let slot = hashPair(left, right) & this.mask; ; slot = (slot + 1) & this.mask) {
      const base = slot * FIELDS;
      if (slots[base] === left && slots[base + 1] === right) return;
      if (slots[base] !== EMPTY) continue;
      slots[base] = left;
      slots[base + 1] = right;
      slots[base + 2] = rank;
      slots[base + 3] = made;
      return;
    }
  }
}

function hashPair(left: number, right: number): number {
  return mixHash(Math.imul(left, 0x9e3779b1) ^ right);
}
