import { it } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG, catalogWithFit, fitsInMemory } from '../../shared/catalog.js';
import { parseModelRef, quantOf } from './model-ref.js';

it('every catalog entry names a valid repo and files whose names carry their quantization', () => {
  const ids = new Set<string>();
  for (const entry of CATALOG) {
    assert.ok(!ids.has(entry.id), entry.id);
    ids.add(entry.id);
    assert.equal(parseModelRef(entry.repo).repo, entry.repo);
    assert.ok(entry.layers > 0 && entry.files.length > 0);
    for (const file of entry.files) {
      assert.equal(quantOf(file.file), file.quant, file.file);
      assert.ok(file.sizeBytes > 100e6);
    }
  }
  for (const name of ['Qwen3 0.6B', 'Qwen3 32B', 'Llama 3.2 1B Instruct', 'Llama 3.1 8B Instruct', 'Qwen2.5-Coder 14B Instruct', 'Mistral 7B Instruct v0.3']) {
    assert.ok(CATALOG.some((entry) => entry.name === name), name);
  }
});

it('marks what fits a memory budget', () => {
  const file = { quant: 'Q4_K_M', file: 'x-Q4_K_M.gguf', sizeBytes: 5e9 };
  assert.equal(fitsInMemory(file, 8e9), true);
  assert.equal(fitsInMemory(file, 5.5e9), false);
  const marked = catalogWithFit(16e9);
  assert.equal(marked.find((entry) => entry.id === 'qwen3-8b')!.files[0]!.fits, true);
  assert.equal(marked.find((entry) => entry.id === 'qwen3-32b')!.files[0]!.fits, false);
});

it('reads quantizations and model references', () => {
  assert.equal(quantOf('Qwen3-8B-Q4_K_M.gguf'), 'Q4_K_M');
  assert.equal(quantOf('model-BF16-00001-of-00002.gguf'), 'BF16');
  assert.equal(quantOf('qwen2.5-coder-7b-instruct-q4_k_m.gguf'), 'Q4_K_M');
  assert.equal(quantOf('plain.gguf'), undefined);
  assert.deepEqual(parseModelRef('Qwen/Qwen3-8B-GGUF:Qwen3-8B-Q8_0.gguf'), { repo: 'Qwen/Qwen3-8B-GGUF', file: 'Qwen3-8B-Q8_0.gguf' });
  assert.throws(() => parseModelRef('qwen3'), { code: 'CLI_BAD_ARGUMENT' });
});
