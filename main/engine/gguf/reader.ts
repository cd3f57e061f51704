// Parses a GGUF (v2/v3) header: metadata, tensor index and the data section's offset.
// A file is read from its start in growing chunks until the header is complete, never whole.
// Every count and length read from the file is checked against a named limit and against the
// file's size before anything is allocated, so a corrupt file yields a typed error, not a crash.
//
// Layout (little-endian): "GGUF" u32 version, u64 tensor_count, u64 kv_count,
// kv_count × (string key, u32 value_type, value), tensor_count × (string name, u32 n_dims,
// u64 dims[n_dims], u32 ggml_type, u64 offset), padding to `general.alignment`, tensor data.
// A string is a u64 byte length and UTF-8 bytes.

import { open, type FileHandle } from 'node:fs/promises';
import { TesseraError } from '../../../shared/errors.js';
import { ggmlTensorBytes } from './tensor-types.js';
import { GGUFValueType, type GGMLType, type GGUFHeader, type GGUFTensorInfo, type GGUFValue } from './types.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const SUPPORTED_VERSIONS: readonly number[] = [2, 3];
export const DEFAULT_ALIGNMENT = 32;

/** The largest header Tessera will read (a 256k vocabulary with merges is ~15 MiB). */
export const MAX_HEADER_BYTES = 256 * 1024 * 1024;
export const MAX_TENSORS = 1 << 16;
export const MAX_METADATA_ENTRIES = 1 << 16;
/** One string: keys, token texts, chat templates. */
export const MAX_STRING_BYTES = 16 * 1024 * 1024;
export const MAX_ARRAY_ELEMENTS = 1 << 24;
/** Arrays of arrays are legal GGUF but no model uses more than one level. */
export const MAX_ARRAY_NESTING = 2;
/** GGML_MAX_DIMS. */
export const MAX_TENSOR_DIMS = 4;
/** The first read; each further read doubles what is held. */
export const INITIAL_HEADER_READ_BYTES = 1024 * 1024;

/** Asked for more of the file than the prefix held; the caller reads more and parses again. */
class NeedMoreBytes {
  constructor(readonly bytes: number) {}
}

export type HeaderParseResult = { readonly header: GGUFHeader } | { readonly needBytes: number };

/**
 * Parses a header from the first bytes of a file of `fileSize` bytes. Returns `needBytes`
 * (a prefix length to try next) when `prefix` ends inside the header, so callers that fetch
 * ranges over the network can use it as well as the file reader below.
 */
export function parseGGUFHeader(prefix: Uint8Array, fileSize: number): HeaderParseResult {
  return parseWith(new HeaderParser(prefix, fileSize, false));
}

/**
 * Walks the header as parseGGUFHeader does, with the same checks, but without building metadata
 * string and array values: finding where a header ends this way creates no garbage, where parsing
 * a prefix too short for a 150 000-token vocabulary builds (and drops) most of its strings.
 */
function skimGGUFHeader(prefix: Uint8Array, fileSize: number): HeaderParseResult {
  return parseWith(new HeaderParser(prefix, fileSize, true));
}

function parseWith(parser: HeaderParser): HeaderParseResult {
  try {
    return { header: parser.parse() };
  } catch (error) {
    if (error instanceof NeedMoreBytes) return { needBytes: error.bytes };
    throw error;
  }
}

/** Reads and parses the header of the GGUF file at `source` (a path or an open handle). */
export async function readGGUFHeader(source: string | FileHandle): Promise<GGUFHeader> {
  return withHandle(source, async (handle) => {
    const fileSize = (await handle.stat()).size;
    let prefix: Uint8Array = new Uint8Array(0);
    let want = Math.min(fileSize, INITIAL_HEADER_READ_BYTES);
    for (;;) {
      prefix = await extendPrefix(handle, prefix, want);
      // Skim until the prefix holds the whole header, then build its values once.
      const result = skimGGUFHeader(prefix, fileSize);
      if ('header' in result) return new HeaderParser(prefix, fileSize, false).parse();
      if (result.needBytes > MAX_HEADER_BYTES) {
        throw new TesseraError('GGUF_INVALID', `GGUF header is larger than ${MAX_HEADER_BYTES} bytes`);
      }
      want = Math.min(fileSize, MAX_HEADER_BYTES, Math.max(result.needBytes, prefix.length * 2));
    }
  });
}

/** The bytes of one tensor, read from the file. */
export async function readTensorBytes(source: string | FileHandle, tensor: GGUFTensorInfo): Promise<Uint8Array> {
  return withHandle(source, async (handle) => {
    const bytes = new Uint8Array(tensor.byteLength);
    const { bytesRead } = await readFully(handle, bytes, tensor.offset);
    if (bytesRead < tensor.byteLength) {
      throw new TesseraError(
        'GGUF_TRUNCATED',
        `tensor ${tensor.name} needs bytes ${tensor.offset}..${tensor.offset + tensor.byteLength}, the file ends first`,
      );
    }
    return bytes;
  });
}

async function withHandle<T>(source: string | FileHandle, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  if (typeof source !== 'string') return use(source);
  let handle: FileHandle;
  try {
    handle = await open(source, 'r');
  } catch (cause) {
    throw new TesseraError('MODEL_NOT_FOUND', `cannot open GGUF file ${source}`, { cause });
  }
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

async function extendPrefix(handle: FileHandle, prefix: Uint8Array, length: number): Promise<Uint8Array> {
  if (length <= prefix.length) return prefix;
  const grown = new Uint8Array(length);
  grown.set(prefix);
  const { bytesRead } = await readFully(handle, grown.subarray(prefix.length), prefix.length);
  return grown.subarray(0, prefix.length + bytesRead);
}

/** handle.read may return fewer bytes than asked; loop until full or end of file. */
async function readFully(handle: FileHandle, target: Uint8Array, position: number): Promise<{ bytesRead: number }> {
  let total = 0;
  while (total < target.length) {
    const { bytesRead } = await handle.read(target, total, target.length - total, position + total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return { bytesRead: total };
}

const utf8 = new TextDecoder('utf-8');

/** Element sizes in bytes of the fixed-size value types (strings and arrays are variable). */
const FIXED_VALUE_BYTES: Partial<Record<GGUFValueType, number>> = {
  [GGUFValueType.UINT8]: 1,
  [GGUFValueType.INT8]: 1,
  [GGUFValueType.UINT16]: 2,
  [GGUFValueType.INT16]: 2,
  [GGUFValueType.UINT32]: 4,
  [GGUFValueType.INT32]: 4,
  [GGUFValueType.FLOAT32]: 4,
  [GGUFValueType.BOOL]: 1,
  [GGUFValueType.UINT64]: 8,
  [GGUFValueType.INT64]: 8,
  [GGUFValueType.FLOAT64]: 8,
};

class HeaderParser {
  private position = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly fileSize: number,
    /** Step over metadata string and array values instead of building them (see skimGGUFHeader). */
    private readonly skimValues: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  parse(): GGUFHeader {
    if (this.u32() !== GGUF_MAGIC) throw new TesseraError('GGUF_INVALID', 'not a GGUF file (bad magic)');
    const version = this.u32();
    if (!SUPPORTED_VERSIONS.includes(version)) {
      throw new TesseraError('GGUF_UNSUPPORTED_VERSION', `GGUF version ${version} is not supported (2 and 3 are)`);
    }
    const tensorCount = this.count(MAX_TENSORS, 'tensor count');
    const entryCount = this.count(MAX_METADATA_ENTRIES, 'metadata entry count');
    // An entry takes at least a key length, a type and one byte; a tensor info at least 32 bytes.
    this.fits(entryCount, 13, 'metadata');
    this.fits(tensorCount, 32, 'tensor index');

    const metadata = new Map<string, GGUFValue>();
    for (let i = 0; i < entryCount; i++) {
      const key = this.string();
      if (metadata.has(key)) throw new TesseraError('GGUF_INVALID', `duplicate metadata key ${key}`);
      metadata.set(key, this.value(this.valueType(key), key, 0));
    }
    const alignment = readAlignment(metadata);

    const infos: { name: string; dims: number[]; type: number; relativeOffset: number }[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const name = this.string();
      if (names.has(name)) throw new TesseraError('GGUF_INVALID', `duplicate tensor ${name}`);
      names.add(name);
      const dimCount = this.u32();
      if (dimCount < 1 || dimCount > MAX_TENSOR_DIMS) {
        throw new TesseraError('GGUF_INVALID', `tensor ${name} has ${dimCount} dimensions`);
      }
      const dims: number[] = [];
      for (let d = 0; d < dimCount; d++) dims.push(this.safeU64(`tensor ${name} dimension`));
      const type = this.u32();
      const relativeOffset = this.safeU64(`tensor ${name} offset`);
      infos.push({ name, dims, type, relativeOffset });
    }
    const dataOffset = alignUp(this.position, alignment);

    const tensors = infos.map((info): GGUFTensorInfo => {
      const elementCount = info.dims.reduce((product, dim) => product * dim, 1);
      if (info.dims.some((dim) => dim < 1) || !Number.isSafeInteger(elementCount)) {
        throw new TesseraError('GGUF_INVALID', `tensor ${info.name} has invalid dimensions [${info.dims.join(', ')}]`);
      }
      if (info.relativeOffset % alignment !== 0) {
        throw new TesseraError('GGUF_INVALID', `tensor ${info.name} offset ${info.relativeOffset} is not aligned to ${alignment}`);
      }
      const byteLength = ggmlTensorBytes(info.type, info.dims[0]!, elementCount);
      const offset = dataOffset + info.relativeOffset;
      if (offset + byteLength > this.fileSize) {
        throw new TesseraError(
          'GGUF_TRUNCATED',
          `tensor ${info.name} data (${offset}..${offset + byteLength}) lies past the end of the file (${this.fileSize} bytes)`,
        );
      }
      return { name: info.name, dims: info.dims, type: info.type as GGMLType, offset, byteLength };
    });
    return { version, metadata, tensors, dataOffset, alignment };
  }

  // ---- primitive reads; each one first makes sure the bytes are there ----

  private need(length: number): void {
    const end = this.position + length;
    if (end <= this.bytes.length) return;
    if (end > this.fileSize || this.bytes.length >= this.fileSize) {
      throw new TesseraError('GGUF_TRUNCATED', `GGUF header ends early: needs byte ${end}, the file has ${this.fileSize}`);
    }
    throw new NeedMoreBytes(end);
  }

  /** Fails early when `count` items of at least `itemBytes` each cannot fit in the rest of the file. */
  private fits(count: number, itemBytes: number, what: string): void {
    if (this.position + count * itemBytes > this.fileSize) {
      throw new TesseraError('GGUF_TRUNCATED', `${what} of ${count} items runs past the end of the file`);
    }
  }

  private u8(): number {
    this.need(1);
    return this.view.getUint8(this.position++);
  }

  private u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  private u64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.position, true);
    this.position += 8;
    return value;
  }

  private safeU64(what: string): number {
    const value = this.u64();
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new TesseraError('GGUF_INVALID', `${what} ${value} is too large`);
    return Number(value);
  }

  private count(limit: number, what: string): number {
    const value = this.u64();
    if (value > BigInt(limit)) throw new TesseraError('GGUF_INVALID', `${what} ${value} exceeds the limit of ${limit}`);
    return Number(value);
  }

  private string(): string {
    const length = this.count(MAX_STRING_BYTES, 'string length');
    this.fits(length, 1, 'string');
    this.need(length);
    const text = utf8.decode(this.bytes.subarray(this.position, this.position + length));
    this.position += length;
    return text;
  }

  /** Steps over a string with the checks of string(); returns '' in its place. */
  private skipString(): string {
    const length = this.count(MAX_STRING_BYTES, 'string length');
    this.fits(length, 1, 'string');
    this.need(length);
    this.position += length;
    return '';
  }

  private valueType(key: string): GGUFValueType {
    const type = this.u32();
    if (!(type in GGUFValueType)) throw new TesseraError('GGUF_INVALID', `metadata ${key} has unknown value type ${type}`);
    return type as GGUFValueType;
  }

  private value(type: GGUFValueType, key: string, depth: number): GGUFValue {
    switch (type) {
      case GGUFValueType.ARRAY:
        return this.array(key, depth);
      case GGUFValueType.STRING:
        return this.skimValues ? this.skipString() : this.string();
      case GGUFValueType.BOOL:
        return this.u8() !== 0;
      default:
        return this.scalar(type);
    }
  }

  private scalar(type: GGUFValueType): number | bigint {
    const size = FIXED_VALUE_BYTES[type]!;
    this.need(size);
    const at = this.position;
    this.position += size;
    const view = this.view;
    switch (type) {
      case GGUFValueType.UINT8:
        return view.getUint8(at);
      case GGUFValueType.INT8:
        return view.getInt8(at);
      case GGUFValueType.UINT16:
        return view.getUint16(at, true);
      case GGUFValueType.INT16:
        return view.getInt16(at, true);
      case GGUFValueType.UINT32:
        return view.getUint32(at, true);
      case GGUFValueType.INT32:
        return view.getInt32(at, true);
      case GGUFValueType.FLOAT32:
        return view.getFloat32(at, true);
      case GGUFValueType.FLOAT64:
        return view.getFloat64(at, true);
      case GGUFValueType.UINT64:
        return numberIfSafe(view.getBigUint64(at, true));
      case GGUFValueType.INT64:
        return numberIfSafe(view.getBigInt64(at, true));
      default:
        throw new TesseraError('GGUF_INVALID', `value type ${type} is not a scalar`);
    }
  }

  private array(key: string, depth: number): GGUFValue {
    if (depth >= MAX_ARRAY_NESTING) throw new TesseraError('GGUF_INVALID', `metadata ${key} nests arrays too deeply`);
    const elementType = this.valueType(key);
    const length = this.count(MAX_ARRAY_ELEMENTS, `metadata ${key} array length`);
    // Strings take at least their 8-byte length, arrays their 12-byte header.
    const minimumBytes = FIXED_VALUE_BYTES[elementType] ?? (elementType === GGUFValueType.STRING ? 8 : 12);
    this.fits(length, minimumBytes, `metadata ${key} array`);

    if (this.skimValues) {
      const size = FIXED_VALUE_BYTES[elementType];
      if (size !== undefined) {
        this.need(length * size);
        this.position += length * size;
      } else {
        for (let i = 0; i < length; i++) this.value(elementType, key, depth + 1);
      }
      return [];
    }
    const typed = this.typedArray(elementType, length);
    if (typed !== undefined) return typed;
    if (elementType === GGUFValueType.STRING) {
      const strings = new Array<string>(length);
      for (let i = 0; i < length; i++) strings[i] = this.string();
      return strings;
    }
    if (elementType === GGUFValueType.BOOL) {
      const flags = new Array<boolean>(length);
      for (let i = 0; i < length; i++) flags[i] = this.u8() !== 0;
      return flags;
    }
    const values = new Array<GGUFValue>(length);
    for (let i = 0; i < length; i++) values[i] = this.value(elementType, key, depth + 1);
    return values as readonly number[] | readonly GGUFValue[];
  }

  /** 32-bit numeric arrays (token types, scores) come back typed; vocabularies hold 150k of them. */
  private typedArray(elementType: GGUFValueType, length: number): Int32Array | Uint32Array | Float32Array | undefined {
    const make =
      elementType === GGUFValueType.INT32
        ? (n: number) => new Int32Array(n)
        : elementType === GGUFValueType.UINT32
          ? (n: number) => new Uint32Array(n)
          : elementType === GGUFValueType.FLOAT32
            ? (n: number) => new Float32Array(n)
            : undefined;
    if (make === undefined) return undefined;
    this.need(length * 4);
    const out = make(length);
    // Copy the bytes (the file offset may not be 4-aligned) and view them as the target type;
    // GGUF is little-endian, as is every host Tessera runs on.
    new Uint8Array(out.buffer).set(this.bytes.subarray(this.position, this.position + length * 4));
    this.position += length * 4;
    return out;
  }
}

function numberIfSafe(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

function readAlignment(metadata: ReadonlyMap<string, GGUFValue>): number {
  const value = metadata.get('general.alignment');
  if (value === undefined) return DEFAULT_ALIGNMENT;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || (value & (value - 1)) !== 0) {
    throw new TesseraError('GGUF_INVALID', `general.alignment must be a power of two, got ${String(value)}`);
  }
  return value;
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
