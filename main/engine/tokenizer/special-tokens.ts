// Cuts text around special tokens before BPE sees it, as llama.cpp's tokenizer_st_partition does:
// control and unknown tokens only when parsing specials (chat prompts), user-defined tokens
// always. Longer tokens are cut first, so `<|im_start|>` wins over any shorter token inside it.

import { TokenType, type Vocab } from './vocab.js';

export type Fragment = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'token'; readonly id: number };

export class SpecialTokenSplitter {
  /** [text, id] of every control, user-defined and unknown token, longest text first. */
  private readonly specials: ReadonlyArray<readonly [string, number, boolean]>;

  constructor(vocab: Vocab) {
    const specials: Array<[string, number, boolean]> = [];
    vocab.types.forEach((type, id) => {
      if (type === TokenType.CONTROL || type === TokenType.UNKNOWN || type === TokenType.USER_DEFINED) {
        const text = vocab.tokens[id]!;
        if (text.length > 0) specials.push([text, id, type === TokenType.USER_DEFINED]);
      }
    });
    specials.sort((a, b) => b[0].length - a[0].length || a[1] - b[1]);
    this.specials = specials;
  }

  split(text: string, parseSpecial: boolean): Fragment[] {
    let fragments: Fragment[] = text.length > 0 ? [{ kind: 'text', text }] : [];
    for (const [special, id, userDefined] of this.specials) {
      if (!parseSpecial && !userDefined) continue;
      if (!fragments.some((fragment) => fragment.kind === 'text' && fragment.text.includes(special))) continue;
      const next: Fragment[] = [];
      for (const fragment of fragments) {
        if (fragment.kind === 'token') {
          next.push(fragment);
          continue;
        }
        let start = 0;
        for (let at = fragment.text.indexOf(special); at >= 0; at = fragment.text.indexOf(special, start)) {
          if (at > start) next.push({ kind: 'text', text: fragment.text.slice(start, at) });
          next.push({ kind: 'token', id });
          start = at + special.length;
        }
        if (start < fragment.text.length) next.push({ kind: 'text', text: fragment.text.slice(start) });
      }
      fragments = next;
    }
    return fragments;
  }
}
