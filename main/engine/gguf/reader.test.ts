import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTesseraError, TesseraError } from '../../../shared/errors.js';
import { layerByteRanges, layerTensors } from './layers.js';
import { architectureConfig, getCount, getNumber, getString, getStringArray } from './metadata.js';
import { dequantize, quantize } from './quant.js';
import { INITIAL_HEADER_READ_BYTES, parseGGUFHeader, readGGUFHeader, readTensorBytes } from './reader.js';
import { GGMLType, GGUFValueType, type GGUFHeader } from './types.js';
import { typed, writeGGUF, type TensorToWrite, type WriteValue } from './writer.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-gguf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ramp(count: number, scale = 0.01): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37) * scale);
}

/** A two-layer llama-shaped file with every metadata value type. */
function sampleModel(): { metadata: [string, WriteValue][]; tensors: TensorToWrite[] } {
  const dim = 64;
  const metadata: [string, WriteValue][] = [
    ['general.architecture', 'llama'],
    ['general.name', 'tiny ✓ ünïcode'],
    ['llama.block_count', 2],
    ['llama.context_length', 256],
    ['llama.embedding_length', dim],
    ['llama.feed_forward_length', 128],
    ['llama.attention.head_count', 4],
    ['llama.attention.head_count_kv', 2],
    ['llama.rope.freq_base', typed.f32(500000)],
    ['llama.attention.layer_norm_rms_epsilon', typed.f32(1e-5)],
    ['test.u8', typed.u8(200)],
    ['test.i8', typed.i8(-5)],
    ['test.u16', typed.u16(65000)],
    ['test.i16', typed.i16(-300)],
    ['test.i32', -7],
    ['test.f64', typed.f64(Math.PI)],
    ['test.u64', typed.u64(2n ** 60n)],
    ['test.i64', typed.i64(-12)],
    ['test.bool', true],
    ['test.strings', ['a', '', 'ü']],
    ['test.int32s', Int32Array.from([1, -2, 3])],
    ['test.floats', Float32Array.from([0.5, -1.25])],
    ['test.bools', [true, false]],
    ['test.u8s', typed.array(GGUFValueType.UINT8, [1, 2, 255])],
    ['test.nested', [[1, 2], ['x']]],
  ];
  const tensors: TensorToWrite[] = [
    { name: 'token_embd.weight', dims: [dim, 32], type: GGMLType.Q8_0, data: quantize(GGMLType.Q8_0, ramp(dim * 32)) },
  ];
  for (let layer = 0; layer < 2; layer++) {
    tensors.push({ name: `blk.${layer}.attn_norm.weight`, dims: [dim], type: GGMLType.F32, data: quantize(GGMLType.F32, ramp(dim, 1)) });
    // Produced lazily in two chunks, as the random-model writer does.
    const q = quantize(GGMLType.Q4_K, ramp(dim * 4 * 64));
    tensors.push({ name: `blk.${layer}.attn_q.weight`, dims: [256, dim], type: GGMLType.Q4_K, data: () => [q.subarray(0, 100), q.subarray(100)] });
  }
  tensors.push({ name: 'output_norm.weight', dims: [dim], type: GGMLType.F16, data: quantize(GGMLType.F16, ramp(dim, 1)) });
  return { metadata, tensors };
}

async function writeSample(name: string, alignment?: number): Promise<string> {
  const path = join(dir, name);
  const { metadata, tensors } = sampleModel();
  await writeGGUF(path, { metadata, tensors, ...(alignment === undefined ? {} : { alignment }) });
  return path;
}

function expectCode(code: string) {
  return (error: unknown): boolean => {
    assert.ok(isTesseraError(error), `expected TesseraError ${code}, got ${String(error)}`);
    assert.equal((error as TesseraError).code, code, (error as Error).message);
    return true;
  };
}

describe('reader(writer(x)) == x', () => {
  it('round-trips metadata of every type', async () => {
    const header = await readGGUFHeader(await writeSample('meta.gguf'));
    assert.equal(header.version, 3);
    const m = header.metadata;
    assert.equal(m.get('general.name'), 'tiny ✓ ünïcode');
    assert.equal(m.get('llama.block_count'), 2);
    assert.equal(m.get('llama.rope.freq_base'), 500000);
    assert.equal(m.get('llama.attention.layer_norm_rms_epsilon'), Math.fround(1e-5));
    assert.equal(m.get('test.u8'), 200);
    assert.equal(m.get('test.i8'), -5);
    assert.equal(m.get('test.u16'), 65000);
    assert.equal(m.get('test.i16'), -300);
    assert.equal(m.get('test.i32'), -7);
    assert.equal(m.get('test.f64'), Math.PI);
    assert.equal(m.get('test.u64'), 2n ** 60n);
    assert.equal(m.get('test.i64'), -12);
    assert.equal(m.get('test.bool'), true);
    assert.deepEqual(m.get('test.strings'), ['a', '', 'ü']);
    assert.deepEqual(m.get('test.int32s'), Int32Array.from([1, -2, 3]));
    assert.deepEqual(m.get('test.floats'), Float32Array.from([0.5, -1.25]));
    assert.deepEqual(m.get('test.bools'), [true, false]);
    assert.deepEqual(m.get('test.u8s'), [1, 2, 255]);
    assert.deepEqual(m.get('test.nested'), [Uint32Array.from([1, 2]), ['x']]);
  });

  it('round-trips tensors: names, dims, types, aligned offsets and bytes', async () => {
    for (const alignment of [32, 64]) {
      const path = await writeSample(`tensors-${alignment}.gguf`, alignment);
      const header = await readGGUFHeader(path);
      assert.equal(header.alignment, alignment);
      assert.equal(header.dataOffset % alignment, 0);
      const { tensors } = sampleModel();
      assert.deepEqual(header.tensors.map((t) => t.name), tensors.map((t) => t.name));
      for (const [i, info] of header.tensors.entries()) {
        const source = tensors[i]!;
        assert.deepEqual(info.dims, source.dims);
        assert.equal(info.type, source.type);
        assert.equal(info.offset % alignment, 0);
        const expected = source.data instanceof Uint8Array ? source.data : Buffer.concat([...(source.data() as Iterable<Uint8Array>)]);
        assert.deepEqual(await readTensorBytes(path, info), new Uint8Array(expected));
      }
      const q = header.tensors.find((t) => t.name === 'blk.1.attn_q.weight')!;
      const values = dequantize(q.type, await readTensorBytes(path, q), 256 * 64);
      assert.ok(Math.abs(values[5]! - Math.sin(5 * 0.37) * 0.01) < 0.001);
    }
  });

  it('reads a header larger than the first chunk by growing the read', async () => {
    const path = join(dir, 'big-header.gguf');
    const tokens = Array.from({ length: 200_000 }, (_, i) => `token-${i}`);
    await writeGGUF(path, {
      metadata: [['general.architecture', 'llama'], ['tokenizer.ggml.tokens', tokens]],
      tensors: [{ name: 'x', dims: [4], type: GGMLType.F32, data: new Uint8Array(16) }],
    });
    const header = await readGGUFHeader(path);
    assert.ok(header.dataOffset > INITIAL_HEADER_READ_BYTES);
    assert.equal(getStringArray(header.metadata, 'tokenizer.ggml.tokens')[199_999], 'token-199999');
  });

  it('parses from a prefix, asking for more when it ends inside the header', async () => {
    const bytes = new Uint8Array(await readFile(await writeSample('prefix.gguf')));
    const partial = parseGGUFHeader(bytes.subarray(0, 40), bytes.length);
    assert.ok('needBytes' in partial && partial.needBytes > 40);
    const whole = parseGGUFHeader(bytes, bytes.length);
    assert.ok('header' in whole);
  });

  it('refuses tensor data that does not match its shape', async () => {
    await assert.rejects(
      writeGGUF(join(dir, 'bad.gguf'), {
        metadata: [],
        tensors: [{ name: 'x', dims: [32], type: GGMLType.Q8_0, data: new Uint8Array(33) }],
      }),
      expectCode('GGUF_INVALID'),
    );
  });
});

describe('bad input gives typed errors', () => {
  let good: Uint8Array;
  let header: GGUFHeader;
  before(async () => {
    const path = await writeSample('good.gguf');
    good = new Uint8Array(await readFile(path));
    header = await readGGUFHeader(path);
  });

  async function readBytes(bytes: Uint8Array, name: string): Promise<GGUFHeader> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return readGGUFHeader(path);
  }

  it('truncated anywhere: GGUF_TRUNCATED', async () => {
    // Every cut inside the header, and a few inside the tensor data.
    const cuts = [...Array.from({ length: header.dataOffset }, (_, i) => i), header.dataOffset + 10, good.length - 1];
    for (const cut of cuts) {
      const prefix = good.subarray(0, cut);
      assert.throws(() => parseGGUFHeader(prefix, prefix.length), expectCode('GGUF_TRUNCATED'), `cut at ${cut}`);
    }
    await assert.rejects(readBytes(good.subarray(0, good.length - 1), 'cut.gguf'), expectCode('GGUF_TRUNCATED'));
  });

  it('bad magic: GGUF_INVALID; other versions: GGUF_UNSUPPORTED_VERSION', async () => {
    const bad = good.slice();
    bad[0] = 0x00;
    await assert.rejects(readBytes(bad, 'magic.gguf'), expectCode('GGUF_INVALID'));
    for (const version of [1, 4, 0x03000000]) {
      const other = good.slice();
      new DataView(other.buffer).setUint32(4, version, true);
      await assert.rejects(readBytes(other, `v${version}.gguf`), expectCode('GGUF_UNSUPPORTED_VERSION'));
    }
    const v2 = good.slice();
    new DataView(v2.buffer).setUint32(4, 2, true);
    assert.equal((await readBytes(v2, 'v2.gguf')).version, 2);
  });

  it('absurd counts and lengths are refused before allocating', () => {
    const patch = (offset: number, value: bigint): Uint8Array => {
      const copy = good.slice();
      new DataView(copy.buffer).setBigUint64(offset, value, true);
      return copy;
    };
    const parse = (bytes: Uint8Array) => () => parseGGUFHeader(bytes, bytes.length);
    assert.throws(parse(patch(8, 2n ** 40n)), expectCode('GGUF_INVALID'), 'tensor count');
    assert.throws(parse(patch(16, 2n ** 62n)), expectCode('GGUF_INVALID'), 'metadata count');
    assert.throws(parse(patch(16, 60000n)), expectCode('GGUF_TRUNCATED'), 'metadata count past the file');
    assert.throws(parse(patch(24, 2n ** 50n)), expectCode('GGUF_INVALID'), 'first key length');
    assert.throws(parse(patch(24, 10_000_000n)), expectCode('GGUF_TRUNCATED'), 'key length past the file');
  });

  it('an array claiming more elements than the file holds: GGUF_TRUNCATED', () => {
    const key = new TextEncoder().encode('test.strings');
    const at = indexOf(good, key) + key.length + 4 + 4; // after key, value type, element type
    const copy = good.slice();
    new DataView(copy.buffer).setBigUint64(at, 5_000_000n, true);
    assert.throws(() => parseGGUFHeader(copy, copy.length), expectCode('GGUF_TRUNCATED'));
    new DataView(copy.buffer).setBigUint64(at, 2n ** 33n, true);
    assert.throws(() => parseGGUFHeader(copy, copy.length), expectCode('GGUF_INVALID'));
  });

  it('tensor data past the end of the file: GGUF_TRUNCATED', async () => {
    const name = new TextEncoder().encode('output_norm.weight');
    const at = indexOf(good, name) + name.length + 4 + 8 + 4; // after name, n_dims, dims[0], type
    const copy = good.slice();
    new DataView(copy.buffer).setBigUint64(at, 1n << 20n, true);
    await assert.rejects(readBytes(copy, 'past.gguf'), expectCode('GGUF_TRUNCATED'));
    new DataView(copy.buffer).setBigUint64(at, 3n, true);
    await assert.rejects(readBytes(copy, 'unaligned.gguf'), expectCode('GGUF_INVALID'));
  });

  it('random corruption of the header never escapes as an untyped error', () => {
    let seed = 12345;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let trial = 0; trial < 2000; trial++) {
      const copy = good.slice();
      for (let flips = 1 + random(4); flips > 0; flips--) copy[random(header.dataOffset)] = random(256);
      try {
        parseGGUFHeader(copy, copy.length);
      } catch (error) {
        assert.ok(error instanceof TesseraError, `trial ${trial}: ${String(error)}`);
      }
    }
  });

  it('missing file: MODEL_NOT_FOUND', async () => {
    await assert.rejects(readGGUFHeader(join(dir, 'nope.gguf')), expectCode('MODEL_NOT_FOUND'));
  });
});

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  throw new Error('not found');
}

describe('metadata accessors and architectureConfig', () => {
  it('reads the llama hyperparameters with defaults', async () => {
    const header = await readGGUFHeader(await writeSample('arch.gguf'));
    const config = architectureConfig(header);
    assert.deepEqual(config, {
      architecture: 'llama',
      blockCount: 2,
      contextLength: 256,
      embeddingLength: 64,
      feedForwardLength: 128,
      headCount: 4,
      headCountKv: 2,
      keyLength: 16,
      valueLength: 16,
      ropeDimensionCount: 16,
      ropeFreqBase: 500000,
      rmsNormEpsilon: Math.fround(1e-5),
      vocabSize: 32,
      tiedEmbeddings: true,
    });
  });

  it('names the key when it is missing or mistyped', () => {
    const metadata = new Map([['a.count', 'three'] as const]);
    assert.throws(() => getNumber(metadata, 'a.count'), /a\.count must be a number, it is a string/);
    assert.throws(() => getString(metadata, 'a.missing'), (e) => isTesseraError(e, 'GGUF_INVALID') && /a\.missing/.test(e.message));
    assert.throws(() => getCount(new Map([['n', -1]]), 'n'), expectCode('GGUF_INVALID'));
  });
});

describe('layer byte ranges', () => {
  it('selects layers and parts, tied output needing token_embd', async () => {
    const header = await readGGUFHeader(await writeSample('layers.gguf'));
    const names = (start: number, end: number, embeddings: boolean, output: boolean) =>
      layerTensors(header, start, end, { embeddings, output }).map((t) => t.name);
    assert.deepEqual(names(0, 1, true, false), ['token_embd.weight', 'blk.0.attn_norm.weight', 'blk.0.attn_q.weight']);
    assert.deepEqual(names(1, 2, false, false), ['blk.1.attn_norm.weight', 'blk.1.attn_q.weight']);
    assert.deepEqual(names(1, 2, false, true), [
      'token_embd.weight',
      'blk.1.attn_norm.weight',
      'blk.1.attn_q.weight',
      'output_norm.weight',
    ]);
    for (const [start, end] of [[0, 0], [1, 3], [-1, 1], [2, 1]] as const) {
      assert.throws(() => layerTensors(header, start, end, { embeddings: true, output: true }), expectCode('LAYER_RANGE_INVALID'));
    }
  });

  it('merges adjacent tensors into contiguous ranges that cover exactly those tensors', async () => {
    const header = await readGGUFHeader(await writeSample('ranges.gguf'));
    const byName = new Map(header.tensors.map((t) => [t.name, t]));
    const layer1 = layerByteRanges(header, 1, 2, { embeddings: false, output: false });
    assert.deepEqual(layer1, [
      { start: byName.get('blk.1.attn_norm.weight')!.offset, end: byName.get('blk.1.attn_q.weight')!.offset + byName.get('blk.1.attn_q.weight')!.byteLength },
    ]);
    const whole = layerByteRanges(header, 0, 2, { embeddings: true, output: true });
    const last = header.tensors[header.tensors.length - 1]!;
    assert.deepEqual(whole, [{ start: header.dataOffset, end: last.offset + last.byteLength }]);
    const ends = layerByteRanges(header, 1, 2, { embeddings: true, output: false });
    assert.equal(ends.length, 2, 'token_embd and layer 1 are not adjacent');
  });
});
