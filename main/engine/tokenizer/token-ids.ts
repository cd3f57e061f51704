// Token text -> id for a whole vocabulary, as one typed array over the vocabulary's own strings.
// A Map of 150 000 strings costs a ~7 MiB hash table on top of the strings (V8 keeps three
// pointers an entry at a power-of-two capacity); open addressing with the id in each slot costs
// 4 bytes a slot (~1 MiB), and the strings are the ones the vocabulary holds anyway.

/** Slots per token, at least: probe runs stay short (a load of at most 3/4). */
const SLOTS_PER_TOKEN = 4 / 3;
const EMPTY = 0;

export class TokenIds {
  /** id + 1 of the token hashed to (or probed past) each slot; EMPTY where none. */
  private readonly slots: Int32Array;
  private readonly mask: number;

  /** When two tokens share a text the later id wins, as Map.set would have it. */
  constructor(private readonly texts: readonly string[]) {
    let capacity = 16;
    while (capacity < texts.length * SLOTS_PER_TOKEN) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let id = 0; id < texts.length; id++) {
      const text = texts[id]!;
      let slot = mixHash(hashText(text, HASH_SEED)) & this.mask;
      for (;;) {
        const held = this.slots[slot]!;
        if (held === EMPTY || texts[held - 1] === text) break;
        slot = (slot + 1) & this.mask;
      }
      this.slots[slot] = id + 1;
    }
  }

  get(text: string): number | undefined {
    const { slots, mask, texts } = this;
    for (let slot = mixHash(hashText(text, HASH_SEED)) & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot]!;
      if (held === EMPTY) return undefined;
      if (texts[held - 1] === text) return held - 1;
    }
  }

  /** The id of `left + right` without building that string (SentencePiece asks this for every pair). */
  getPair(left: string, right: string): number | undefined {
    const { slots, mask, texts } = this;
    const length = left.length + right.length;
    for (let slot = mixHash(hashText(right, hashText(left, HASH_SEED))) & mask; ; slot = (slot + 1) & mask) {
      const held = slots[slot]!;
      if (held === EMPTY) return undefined;
      const text = texts[held - 1]!;
      if (text.length === length && text.startsWith(left) && text.endsWith(right)) return held - 1;
    }
  }
}

const HASH_SEED = 0x811c9dc5;

/** FNV-1a over UTF-16 code units; continuing from another hash gives the hash of the concatenation. */
function hashText(text: string, hash: number): number {
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash;
}

/** Mixes the high bits into the low ones, which pick the slot (merge-table.ts hashes with it too). */
export function mixHash(hash: number): number {
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  return hash ^ (hash >>> 13);
}
