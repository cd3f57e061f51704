// The bytes each token stands for, for every token of a vocabulary, in one flat buffer.
// A table of 150 000 separate Uint8Arrays costs ~30 MiB of object headers; one buffer and an
// offset array cost what the bytes do (~1 MiB), and a piece is handed out as a view of it.

export class PieceTable {
  private readonly bytes: Uint8Array;
  /** Piece i is bytes[offsets[i], offsets[i + 1]). */
  private readonly offsets: Uint32Array;

  /** Builds the table from each token's bytes (`pieceOf` may return a temporary array). */
  constructor(count: number, pieceOf: (id: number) => Uint8Array) {
    let bytes = new Uint8Array(Math.max(1024, count * 8));
    const offsets = new Uint32Array(count + 1);
    let end = 0;
    for (let id = 0; id < count; id++) {
      const piece = pieceOf(id);
      if (end + piece.length > bytes.length) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, end + piece.length));
        grown.set(bytes.subarray(0, end));
        bytes = grown;
      }
      bytes.set(piece, end);
      end += piece.length;
      offsets[id + 1] = end;
    }
    this.bytes = bytes.slice(0, end);
    this.offsets = offsets;
  }

  get size(): number {
    return this.offsets.length - 1;
  }

  /** The bytes of piece `id` (a view: callers must not write to it). */
  piece(id: number): Uint8Array {
    return this.bytes.subarray(this.offsets[id]!, this.offsets[id + 1]!);
  }
}
