// The text of every token as constrained decoding sees it, built once per tokenizer: control
// tokens and tokens that are only part of a UTF-8 character get none (a grammar never needs them).

import { TokenIndex } from '../sampling/grammar/token-constraint.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';

const indexes = new WeakMap<Tokenizer, TokenIndex>();

export function grammarVocabulary(tokenizer: Tokenizer): TokenIndex {
  let index = indexes.get(tokenizer);
  if (index === undefined) {
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const texts: (string | undefined)[] = new Array<string | undefined>(tokenizer.vocabSize);
    for (let id = 0; id < tokenizer.vocabSize; id++) {
      if (tokenizer.isControl(id)) continue;
      try {
        texts[id] = strict.decode(tokenizer.tokenBytes(id));
      } catch {
        // part of a multi-byte character
      }
    }
    index = new TokenIndex(texts);
    indexes.set(tokenizer, index);
  }
  return index;
}
