// Byte-level BPE (GPT-2 style): each pre-tokenized word is spelt in byte-level characters, then
// adjacent symbols are merged lowest merge rank first until no ranked pair is left.

import { toByteLevel } from './byte-level.js';
import { MergeQueue, SymbolList } from './merge-queue.js';
import type { PreTokenizer } from './pre-tokenizer.js';
import type { Vocab } from './vocab.js';

/** Words whose ids are remembered; beyond this the cache starts over (bounded memory for long sessions). */
const MAX_CACHED_WORDS = 100_000;

export class BpeEncoder {
  private readonly cache = new Map<string, readonly number[]>();

  constructor(
    private readonly vocab: Vocab,
    private readonly preTokenize: PreTokenizer,
    /** llama.cpp's `ignore_merges` (llama3 family): a word that is itself a token is not merged. */
    private readonly ignoreMerges: boolean,
  ) {}

  encode(text: string, output: number[]): void {
    for (const word of this.preTokenize(text)) {
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(toByteLevel(word));
        if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (const id of ids) output.push(id);
    }
  }

  private encodeWord(word: string): number[] {
    const { ids, merges } = this.vocab;
    const whole = ids.get(word);
    if (whole !== undefined && (this.ignoreMerges || word.length === 1)) return [whole];

    const symbols = new SymbolList(Array.from(word));
    // The token each symbol spells (-1: none), so that merges are looked up by id pair.
    const symbolIds = new Int32Array(symbols.chars.length);
    for (let i = 0; i < symbolIds.length; i++) symbolIds[i] = ids.get(symbols.chars[i]!) ?? -1;
    const queue = new MergeQueue();
    const tryQueue = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const length = symbols.length[left]! + symbols.length[right]!;
      const slot = merges.find(symbolIds[left]!, symbolIds[right]!);
      if (slot >= 0) {
        queue.push({ left, right, priority: merges.rankAt(slot), length, made: merges.madeAt(slot) });
        return;
      }
      if (!merges.hasTextMerges) return;
      const leftText = symbols.text(left);
      const rightText = symbols.text(right);
      const rank = merges.rankOfText(leftText, rightText);
      if (rank !== undefined) queue.push({ left, right, priority: rank, length, made: ids.getPair(leftText, rightText) ?? -1 });
    };
    for (let i = 1; i < symbols.chars.length; i++) tryQueue(i - 1, i);

    while (queue.size > 0) {
      const candidate = queue.pop()!;
      if (!symbols.isCurrent(candidate)) continue;
      symbols.merge(candidate.left, candidate.right);
      symbolIds[candidate.left] = candidate.made;
      tryQueue(symbols.prev[candidate.left]!, candidate.left);
      tryQueue(candidate.left, symbols.next[candidate.left]!);
    }

    const output: number[] = [];
    for (let i = 0; i >= 0; i = symbols.next[i]!) {
      if (symbolIds[i]! >= 0) {
        output.push(symbolIds[i]!);
        continue;
      }
      // A symbol no token spells: fall back to its single characters, skipping any the vocabulary lacks.
      for (const char of symbols.text(i)) {
        const charId = ids.get(char);
        if (charId !== undefined) output.push(charId);
      }
    }
    return output;
  }
}
