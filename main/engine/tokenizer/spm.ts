// SentencePiece BPE as llama.cpp runs it from GGUF: spaces become '▁', characters merge pairwise
// highest token score first, and characters with no token become `<0xNN>` byte tokens.

import { MergeQueue, SymbolList } from './merge-queue.js';
import type { Vocab } from './vocab.js';

const SPACE_MARK = '\u2581';
const utf8 = new TextEncoder();

export class SpmEncoder {
  private readonly byteIds: Int32Array;

  constructor(private readonly vocab: Vocab) {
    this.byteIds = new Int32Array(256).fill(-1);
    for (let byte = 0; byte < 256; byte++) {
      const id = vocab.ids.get(`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`);
      if (id !== undefined) this.byteIds[byte] = id;
    }
  }

  /** Encodes one run of plain text; `prefixSpace` adds the leading '▁' SentencePiece expects at a word start. */
  encode(text: string, prefixSpace: boolean, output: number[]): void {
    const escaped = (prefixSpace ? ' ' + text : text).replaceAll(' ', SPACE_MARK);
    if (escaped.length === 0) return;
    const { ids, scores } = this.vocab;
    const symbols = new SymbolList(Array.from(escaped));
    const queue = new MergeQueue();
    const tryQueue = (left: number, right: number): void => {
      if (left < 0 || right < 0) return;
      const id = ids.getPair(symbols.text(left), symbols.text(right));
      if (id === undefined) return;
      // Highest score first: the queue pops the lowest priority.
      queue.push({ left, right, priority: -scores[id]!, length: symbols.length[left]! + symbols.length[right]!, made: id });
    };
    for (let i = 1; i < symbols.chars.length; i++) tryQueue(i - 1, i);

    while (queue.size > 0) {
      const candidate = queue.pop()!;
      if (!symbols.isCurrent(candidate)) continue;
      symbols.merge(candidate.left, candidate.right);
      tryQueue(symbols.prev[candidate.left]!, candidate.left);
      tryQueue(candidate.left, symbols.next[candidate.left]!);
    }

    // Only pairs that spell a token are ever merged, so every final symbol is a token or a single
    // character the vocabulary lacks, which falls back to its UTF-8 byte tokens.
    for (let i = 0; i >= 0; i = symbols.next[i]!) {
      const text = symbols.text(i);
      const id = ids.get(text);
      if (id !== undefined) output.push(id);
      else this.pushBytes(text, output);
    }
  }

  private pushBytes(text: string, output: number[]): void {
    for (const byte of utf8.encode(text)) {
      const byteId = this.byteIds[byte]!;
      if (byteId >= 0) output.push(byteId);
      else if (this.vocab.unkId !== undefined) output.push(this.vocab.unkId);
    }
  }
}
