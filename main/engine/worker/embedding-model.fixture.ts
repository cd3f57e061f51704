// A random-weight embedding model shaped like Qwen3-Embedding-0.6B (tiny widths): the qwen3
// random model with the metadata llama.cpp's converter writes for it — last-token pooling
// (`qwen3.pooling_type` = 3), EOS appended to every input, EOS = <|endoftext|>.

import { rm } from 'node:fs/promises';
import { readGGUFHeader, readTensorBytes } from '../gguf/reader.js';
import { writeRandomModel } from '../gguf/random-model.js';
import { typed, writeGGUF, type WriteValue } from '../gguf/writer.js';

/** llama.cpp's LLAMA_POOLING_TYPE_LAST. */
const POOLING_LAST = 3;
/** Qwen's <|endoftext|>, the token Qwen3-Embedding ends every input with. */
const QWEN_END_OF_TEXT = 151643;

export async function writeRandomEmbeddingModel(path: string, seed = 21): Promise<void> {
  const chatModel = `${path}.chat.gguf`;
  await writeRandomModel(chatModel, { preset: 'qwen3-0.6b', format: 'Q8_0', tiny: true, seed });
  try {
    const header = await readGGUFHeader(chatModel);
    const metadata: [string, WriteValue][] = [];
    for (const [key, value] of header.metadata) {
      if (key === 'tokenizer.chat_template' || key === 'tokenizer.ggml.add_eos_token' || key === 'tokenizer.ggml.eos_token_id') continue;
      if (key === 'general.name') {
        metadata.push([key, 'Qwen3 Embedding 0.6B (random weights)']);
        continue;
      }
      // Values come back untyped: llama.cpp wants u32 counts and ids, f32 epsilons and bases.
      const isFloat = key.endsWith('epsilon') || key.endsWith('freq_base') || (typeof value === 'number' && !Number.isInteger(value));
      metadata.push([key, typeof value === 'number' ? (isFloat ? typed.f32(value) : typed.u32(value)) : value]);
    }
    metadata.push(['qwen3.pooling_type', typed.u32(POOLING_LAST)]);
    metadata.push(['tokenizer.ggml.eos_token_id', typed.u32(QWEN_END_OF_TEXT)]);
    metadata.push(['tokenizer.ggml.add_eos_token', true]);
    const tensors = await Promise.all(
      header.tensors.map(async (tensor) => ({ name: tensor.name, dims: tensor.dims, type: tensor.type, data: await readTensorBytes(chatModel, tensor) })),
    );
    await writeGGUF(path, { metadata, tensors });
  } finally {
    await rm(chatModel, { force: true });
  }
}
