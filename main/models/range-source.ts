// Where a download's bytes come from: the hub, or a peer that already holds the file. The
// downloader only asks a source for byte ranges, so resuming, per-shard fetches and verification
// work the same whichever it is.

export interface RangeSource {
  /** For messages: `hub Qwen/Qwen3-8B-GGUF/Qwen3-8B-Q4_K_M.gguf`, `peer 3f2a…`. */
  readonly description: string;
  readonly sizeBytes: number;
  /** sha256 of the whole file, hex, when the source knows it (the hub's LFS metadata). */
  readonly sha256: string | undefined;
  /** Streams bytes [start, end) of the file. */
  read(start: number, end: number, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}
