// Writes a GGUF v3 file: header and metadata built in memory, tensor data streamed to disk one
// chunk at a time, so a model larger than memory can be written. Tensors are laid out in the
// order given, each at an offset aligned to `general.alignment`.
//
// GGUF value types matter to llama.cpp, which checks them when it reads a key (a rope base
// written as UINT32 is rejected), so a metadata value may carry its type explicitly:
// `typed.f32(1e6)`. Untyped values are inferred: strings, booleans; integers in [0, 2^32) as
// UINT32, other integers as INT32/INT64; fractions as FLOAT32; Int32Array/Uint32Array/
// Float32Array and arrays of strings/booleans/numbers as ARRAYs of the matching type.

import { open, rename, rm } from 'node:fs/promises';
import { TesseraError } from '../../../shared/errors.js';
import { alignUp, DEFAULT_ALIGNMENT, MAX_TENSOR_DIMS } from './reader.js';
import { ggmlTensorBytes } from './tensor-types.js';
import { GGUFValueType, type GGMLType, type GGUFValue } from './types.js';

type Scalar = number | bigint | boolean | string;

/** A metadata value with its GGUF type spelt out. */
export interface TypedValue {
  readonly gguf: GGUFValueType;
  readonly value: Scalar | ArrayLike<Scalar> | readonly TypedValue[];
  /** For ARRAY: the element type. */
  readonly elementType?: GGUFValueType;
}

export type WriteValue = GGUFValue | TypedValue;

/** Constructors for explicitly typed metadata values. */
export const typed = {
  u8: (value: number): TypedValue => ({ gguf: GGUFValueType.UINT8, value }),
  i8: (value: number): TypedValue => ({ gguf: GGUFValueType.INT8, value }),
  u16: (value: number): TypedValue => ({ gguf: GGUFValueType.UINT16, value }),
  i16: (value: number): TypedValue => ({ gguf: GGUFValueType.INT16, value }),
  u32: (value: number): TypedValue => ({ gguf: GGUFValueType.UINT32, value }),
  i32: (value: number): TypedValue => ({ gguf: GGUFValueType.INT32, value }),
  f32: (value: number): TypedValue => ({ gguf: GGUFValueType.FLOAT32, value }),
  f64: (value: number): TypedValue => ({ gguf: GGUFValueType.FLOAT64, value }),
  u64: (value: number | bigint): TypedValue => ({ gguf: GGUFValueType.UINT64, value }),
  i64: (value: number | bigint): TypedValue => ({ gguf: GGUFValueType.INT64, value }),
  bool: (value: boolean): TypedValue => ({ gguf: GGUFValueType.BOOL, value }),
  string: (value: string): TypedValue => ({ gguf: GGUFValueType.STRING, value }),
  array: (elementType: GGUFValueType, value: ArrayLike<Scalar>): TypedValue => ({
    gguf: GGUFValueType.ARRAY,
    elementType,
    value,
  }),
};

/** Tensor bytes: all at once, or produced in chunks while writing (lazily, one chunk in memory). */
export type TensorData = Uint8Array | (() => Iterable<Uint8Array> | AsyncIterable<Uint8Array>);

export interface TensorToWrite {
  readonly name: string;
  /** ggml order: dims[0] is a row's length. */
  readonly dims: readonly number[];
  readonly type: GGMLType;
  readonly data: TensorData;
}

export interface GGUFWriteInput {
  readonly metadata: Iterable<readonly [string, WriteValue]>;
  readonly tensors: readonly TensorToWrite[];
  /** Data alignment; written as `general.alignment` when not the default 32. */
  readonly alignment?: number;
}

export interface WrittenGGUF {
  readonly fileBytes: number;
  readonly dataOffset: number;
}

/**
 * Writes `input` as a GGUF v3 file at `path`. The file appears complete or not at all: it is
 * written beside `path` under a temporary name and renamed at the end.
 */
export async function writeGGUF(path: string, input: GGUFWriteInput): Promise<WrittenGGUF> {
  const metadata = [...input.metadata];
  const alignment = input.alignment ?? alignmentOf(metadata) ?? DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new TesseraError('GGUF_INVALID', `alignment must be a power of two, got ${alignment}`);
  }
  const entries = metadata.filter(([key]) => key !== 'general.alignment');
  if (alignment !== DEFAULT_ALIGNMENT) entries.unshift(['general.alignment', typed.u32(alignment)]);

  const layout = layoutTensors(input.tensors, alignment);
  const header = encodeHeader(entries, input.tensors, layout.offsets);
  const dataOffset = alignUp(header.length, alignment);

  const temporary = `${path}.partial-${process.pid}`;
  const handle = await open(temporary, 'w');
  let position = 0;
  const write = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
    position += bytes.length;
  };
  const padTo = async (offset: number): Promise<void> => {
    if (offset > position) await write(new Uint8Array(offset - position));
  };
  try {
    await write(header);
    for (let i = 0; i < input.tensors.length; i++) {
      const tensor = input.tensors[i]!;
      const start = dataOffset + layout.offsets[i]!;
      await padTo(start);
      const chunks = tensor.data instanceof Uint8Array ? [tensor.data] : tensor.data();
      for await (const chunk of chunks) {
        if (position + chunk.length > start + layout.byteLengths[i]!) break;
        await write(chunk);
      }
      if (position !== start + layout.byteLengths[i]!) {
        throw new TesseraError(
          'GGUF_INVALID',
          `tensor ${tensor.name} data is ${position - start}+ bytes, its shape and type need ${layout.byteLengths[i]}`,
        );
      }
    }
    await padTo(alignUp(position, alignment));
    await handle.close();
    await rename(temporary, path);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  return { fileBytes: position, dataOffset };
}

function alignmentOf(metadata: readonly (readonly [string, WriteValue])[]): number | undefined {
  const entry = metadata.find(([key]) => key === 'general.alignment');
  if (entry === undefined) return undefined;
  const value = isTypedValue(entry[1]) ? entry[1].value : entry[1];
  return typeof value === 'number' ? value : Number.NaN;
}

function layoutTensors(tensors: readonly TensorToWrite[], alignment: number): { offsets: number[]; byteLengths: number[] } {
  const names = new Set<string>();
  const offsets: number[] = [];
  const byteLengths: number[] = [];
  let offset = 0;
  for (const tensor of tensors) {
    if (names.has(tensor.name)) throw new TesseraError('GGUF_INVALID', `duplicate tensor ${tensor.name}`);
    names.add(tensor.name);
    if (tensor.dims.length < 1 || tensor.dims.length > MAX_TENSOR_DIMS || tensor.dims.some((d) => !Number.isSafeInteger(d) || d < 1)) {
      throw new TesseraError('GGUF_INVALID', `tensor ${tensor.name} has invalid dimensions [${tensor.dims.join(', ')}]`);
    }
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
    const byteLength = ggmlTensorBytes(tensor.type, tensor.dims[0]!, elements);
    offsets.push(offset);
    byteLengths.push(byteLength);
    offset = alignUp(offset + byteLength, alignment);
  }
  return { offsets, byteLengths };
}

// ---- header encoding ----------------------------------------------------------------------

/** A growable little-endian byte buffer. Each write reserves first: reserving may replace `view`. */
class ByteBuilder {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  private reserve(extra: number): number {
    const at = this.length;
    if (at + extra > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, at + extra));
      grown.set(this.bytes.subarray(0, at));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length += extra;
    return at;
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }
  i8(value: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, value);
  }
  u16(value: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, value, true);
  }
  i16(value: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, value, true);
  }
  u32(value: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, value, true);
  }
  i32(value: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, value, true);
  }
  f32(value: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, value, true);
  }
  f64(value: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, value, true);
  }
  u64(value: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(value), true);
  }
  i64(value: number | bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, BigInt(value), true);
  }
  raw(bytes: Uint8Array): void {
    const at = this.reserve(bytes.length);
    this.bytes.set(bytes, at);
  }
  string(text: string): void {
    const encoded = utf8.encode(text);
    this.u64(encoded.length);
    this.raw(encoded);
  }
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const utf8 = new TextEncoder();

function encodeHeader(
  entries: readonly (readonly [string, WriteValue])[],
  tensors: readonly TensorToWrite[],
  offsets: readonly number[],
): Uint8Array {
  const out = new ByteBuilder();
  out.raw(new Uint8Array([0x47, 0x47, 0x55, 0x46])); // "GGUF"
  out.u32(3);
  out.u64(tensors.length);
  out.u64(entries.length);
  const keys = new Set<string>();
  for (const [key, value] of entries) {
    if (keys.has(key)) throw new TesseraError('GGUF_INVALID', `duplicate metadata key ${key}`);
    keys.add(key);
    out.string(key);
    const resolved = toTypedValue(value, key);
    out.u32(resolved.gguf);
    writeValue(out, resolved, key);
  }
  tensors.forEach((tensor, i) => {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    for (const dim of tensor.dims) out.u64(dim);
    out.u32(tensor.type);
    out.u64(offsets[i]!);
  });
  return out.finish();
}

function isTypedValue(value: WriteValue): value is TypedValue {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value) && 'gguf' in value;
}

function toTypedValue(value: WriteValue, key: string): TypedValue {
  if (isTypedValue(value)) return value;
  if (typeof value === 'string') return typed.string(value);
  if (typeof value === 'boolean') return typed.bool(value);
  if (typeof value === 'bigint') return value < 0n ? typed.i64(value) : typed.u64(value);
  if (typeof value === 'number') return { gguf: numberType([value], key), value };
  if (value instanceof Int32Array) return typed.array(GGUFValueType.INT32, value);
  if (value instanceof Uint32Array) return typed.array(GGUFValueType.UINT32, value);
  if (value instanceof Float32Array) return typed.array(GGUFValueType.FLOAT32, value);
  const items = value as readonly WriteValue[];
  if (items.every((item) => typeof item === 'string')) return typed.array(GGUFValueType.STRING, items as string[]);
  if (items.every((item) => typeof item === 'boolean')) return typed.array(GGUFValueType.BOOL, items as boolean[]);
  if (items.every((item) => typeof item === 'number')) {
    return typed.array(numberType(items as number[], key), items as number[]);
  }
  return { gguf: GGUFValueType.ARRAY, elementType: GGUFValueType.ARRAY, value: items.map((item) => toTypedValue(item, key)) };
}

/** The narrowest conventional GGUF type holding all of `values`. */
function numberType(values: readonly number[], key: string): GGUFValueType {
  if (values.some((v) => !Number.isFinite(v) || !Number.isInteger(v))) return GGUFValueType.FLOAT32;
  if (values.every((v) => v >= 0 && v < 2 ** 32)) return GGUFValueType.UINT32;
  if (values.every((v) => v >= -(2 ** 31) && v < 2 ** 31)) return GGUFValueType.INT32;
  if (values.every((v) => Number.isSafeInteger(v))) return GGUFValueType.INT64;
  throw new TesseraError('GGUF_INVALID', `metadata ${key} holds an integer beyond 2^53; pass it as a bigint`);
}

function writeValue(out: ByteBuilder, value: TypedValue, key: string): void {
  if (value.gguf === GGUFValueType.ARRAY) {
    const elementType = value.elementType;
    if (elementType === undefined) throw new TesseraError('GGUF_INVALID', `metadata ${key} is an array without an element type`);
    const items = value.value as ArrayLike<Scalar | TypedValue>;
    out.u32(elementType);
    out.u64(items.length);
    if (elementType === GGUFValueType.ARRAY) {
      for (let i = 0; i < items.length; i++) writeValue(out, items[i] as TypedValue, key);
    } else {
      for (let i = 0; i < items.length; i++) writeScalar(out, elementType, items[i] as Scalar, key);
    }
    return;
  }
  writeScalar(out, value.gguf, value.value as Scalar, key);
}

function writeScalar(out: ByteBuilder, type: GGUFValueType, value: Scalar, key: string): void {
  const mismatch = (): TesseraError =>
    new TesseraError('GGUF_INVALID', `metadata ${key}: ${String(value)} is not a ${GGUFValueType[type]}`);
  if (type === GGUFValueType.STRING) {
    if (typeof value !== 'string') throw mismatch();
    return out.string(value);
  }
  if (type === GGUFValueType.BOOL) {
    if (typeof value !== 'boolean') throw mismatch();
    return out.u8(value ? 1 : 0);
  }
  if (type === GGUFValueType.UINT64 || type === GGUFValueType.INT64) {
    if (typeof value !== 'number' && typeof value !== 'bigint') throw mismatch();
    return type === GGUFValueType.UINT64 ? out.u64(value) : out.i64(value);
  }
  if (typeof value !== 'number') throw mismatch();
  switch (type) {
    case GGUFValueType.UINT8:
      return out.u8(value);
    case GGUFValueType.INT8:
      return out.i8(value);
    case GGUFValueType.UINT16:
      return out.u16(value);
    case GGUFValueType.INT16:
      return out.i16(value);
    case GGUFValueType.UINT32:
      return out.u32(value);
    case GGUFValueType.INT32:
      return out.i32(value);
    case GGUFValueType.FLOAT32:
      return out.f32(value);
    case GGUFValueType.FLOAT64:
      return out.f64(value);
    default:
      throw mismatch();
  }
}
