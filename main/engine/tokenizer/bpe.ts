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
    const { idByText, mergeRanks } = this.vocab;
    const whole = idByText.get(word);
    if (whole !== undefined && (this.ignoreMerges || word.length === 1)) return [whole];

    const symbols = new SymbolList(Array.from(word));
    const queue = new MergeQueue();
    const tryQueue = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const leftText = symbols.text(left);
      const rightText = symbols.text(right);
      const rank = mergeRanks.get(`${leftText} ${rightText}`);
      if (rank === undefined) return;
      queue.push({ left, right, priority: rank, length: symbols.length[left]! + symbols.length[right]! });
    };
    for (let i = 1; i < symbols.chars.length; i++) tryQueue(i - 1, i);

    while (queue.size > 0) {
      const candidate = queue.pop()!;
      if (!symbols.isCurrent(candidate)) continue;
      symbols.merge(candidate.left, candidate.right);
      tryQueue(symbols.prev[candidate.left]!, candidate.left);
      tryQueue(candidate.left, symbols.next[candidate.left]!);
    }

    const ids: number[] = [];
    for (let i = 0; i >= 0; i = symbols.next[i]!) {
      const text = symbols.text(i);
      const id = idByText.get(text);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // A symbol no token spells: fall back to its single characters, skipping any the vocabulary lacks.
      for (const char of text) {
        const charId = idByText.get(char);
        if (charId !== undefined) ids.push(charId);
      }
    }
    return ids;
  }
}
