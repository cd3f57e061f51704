// The tokenizer against llama.cpp (node-llama-cpp, CPU prebuilt) on GGUF files Tessera writes:
// the same file read back by Tessera's reader must give the ids llama.cpp's llama_tokenize gives.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { readGGUFHeader } from '../gguf/reader.js';
import { writeRandomModel, type ModelPreset } from '../gguf/random-model.js';
import { Tokenizer } from './tokenizer.js';

const TEXTS = [
  'Hello world',
  "  I'm sure THEY'RE fine...\n\n\tfunction f(x) { return x ** 2; }\n",
  '12345678901234567890 3.14 ٣٤٥ 你好，世界！日本語 한국어 😀👩‍👩‍👧‍👦 🇫🇷',
  'a'.repeat(200) + ' '.repeat(50) + 'b\r\n\r\n',
  '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n</think>\n',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>',
];

let dir: string;
let llama: Llama;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-tokenizer-'));
  llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
});
after(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

for (const preset of ['qwen3-0.6b', 'llama-3.2-1b'] as ModelPreset[]) {
  test(`${preset}: same ids as llama.cpp's tokenizer on a written GGUF`, async () => {
    const path = join(dir, `${preset}.gguf`);
    await writeRandomModel(path, { preset, format: 'Q8_0', tiny: true, layers: 1 });
    const ours = new Tokenizer((await readGGUFHeader(path)).metadata);
    const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
    try {
      for (const text of TEXTS) {
        for (const parseSpecial of [true, false]) {
          const expected = Array.from(model.tokenize(text, parseSpecial), Number);
          const actual = ours.encode(text, { addBos: false, parseSpecial });
          assert.deepEqual(actual, expected, `${JSON.stringify(text)} parseSpecial=${parseSpecial}`);
        }
      }
    } finally {
      await model.dispose();
    }
  });
}
