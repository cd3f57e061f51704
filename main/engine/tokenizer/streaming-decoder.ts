// Turns generated token ids into text one id at a time without ever splitting a UTF-8 character:
// bytes of an incomplete character are held back until the bytes that finish it arrive.

export interface StreamingDecoder {
  /** Text completed by this token (possibly empty). */
  push(id: number): string;
  /** Whatever is still held back, with incomplete bytes shown as U+FFFD. Call once at the end. */
  flush(): string;
}

export function createStreamingDecoder(tokenBytes: (id: number) => Uint8Array): StreamingDecoder {
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  return {
    push(id) {
      // `stream: true` keeps a trailing partial character inside the decoder for the next call.
      return decoder.decode(tokenBytes(id), { stream: true });
    },
    flush() {
      return decoder.decode();
    },
  };
}
