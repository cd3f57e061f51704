// GPT-2's reversible mapping between bytes and printable characters: byte-level BPE vocabularies
// spell every token with these characters (a space is 'Ġ', a newline 'Ċ').

function buildByteToChar(): string[] {
  const byteToChar = new Array<string>(256);
  const printable = (byte: number): boolean =>
    (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    byteToChar[byte] = String.fromCharCode(printable(byte) ? byte : next++);
  }
  return byteToChar;
}

const BYTE_TO_CHAR: readonly string[] = buildByteToChar();
const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));
const utf8 = new TextEncoder();

/** Spells the UTF-8 bytes of `text` with byte-level characters. */
export function toByteLevel(text: string): string {
  const bytes = utf8.encode(text);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += BYTE_TO_CHAR[bytes[i]!];
  return out;
}

/** The bytes a byte-level token spells; undefined when a character is outside the mapping. */
export function fromByteLevel(piece: string): Uint8Array | undefined {
  const bytes = new Uint8Array(piece.length);
  for (let i = 0; i < piece.length; i++) {
    const byte = CHAR_TO_BYTE.get(piece[i]!);
    if (byte === undefined) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}
