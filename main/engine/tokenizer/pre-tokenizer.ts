// Splits text into the words BPE merges within, using the regexes llama.cpp (llama-vocab.cpp)
// assigns to each `tokenizer.ggml.pre` name. `\s` becomes `\p{White_Space}` because JavaScript's
// `\s` adds U+FEFF and misses U+0085, unlike the Unicode tables llama.cpp and Hugging Face use.

import { TesseraError } from '../../../shared/errors.js';

const CONTRACTIONS_ANY_CASE = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const LLAMA3 = `${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const QWEN2 = `${CONTRACTIONS_ANY_CASE}|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;

/** Each pre-tokenizer is a list of regexes applied in turn; text between matches is kept as words too. */
const REGEXES_BY_PRE: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ...['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'pixtral', 'dbrx', 'smaug-bpe'].map((name): [string, string[]] => [name, [LLAMA3]]),
  ...['qwen2', 'deepseek-r1-qwen', 'stablelm2', 'megrez'].map((name): [string, string[]] => [name, [QWEN2]]),
  ...['gpt-2', 'phi-2', 'mpt', 'olmo', 'jais'].map((name): [string, string[]] => [name, [GPT2]]),
  ...['starcoder', 'refact', 'command-r', 'smollm', 'codeshell', 'exaone', 'minerva-7b'].map(
    (name): [string, string[]] => [name, ['\\p{N}', GPT2]],
  ),
  ['default', ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]']],
]);

export type PreTokenizer = (text: string) => string[];

export function preTokenizerFor(pre: string): PreTokenizer {
  const sources = REGEXES_BY_PRE.get(pre);
  if (sources === undefined) {
    throw new TesseraError('TOKENIZER_UNSUPPORTED', `pre-tokenizer "${pre}" is not supported`);
  }
  const regexes = sources.map((source) => new RegExp(toJavaScript(source), 'gu'));
  return (text) => {
    let words = [text];
    for (const regex of regexes) words = words.flatMap((word) => splitKeepingGaps(word, regex));
    return words;
  };
}

function toJavaScript(source: string): string {
  return source.replaceAll('\\s', '\\p{White_Space}').replaceAll('\\S', '\\P{White_Space}');
}

function splitKeepingGaps(text: string, regex: RegExp): string[] {
  const words: string[] = [];
  let last = 0;
  for (const match of text.matchAll(regex)) {
    if (match[0].length === 0) continue;
    if (match.index > last) words.push(text.slice(last, match.index));
    words.push(match[0]);
    last = match.index + match[0].length;
  }
  if (last < text.length) words.push(text.slice(last));
  return words;
}
