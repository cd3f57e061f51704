// Server-sent events as the OpenAI API writes them: text arrives in arbitrary pieces; complete
// events (blank-line terminated) come out as their joined `data:` lines. Pure, tested under Node.

export class SseDecoder {
  #buffer = '';

  /** Feeds a piece of the stream; returns the data of every event it completed. */
  push(text: string): string[] {
    this.#buffer += text.replace(/\r\n?/g, '\n');
    const events: string[] = [];
    let end: number;
    while ((end = this.#buffer.indexOf('\n\n')) !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
      if (data.length > 0) events.push(data.join('\n'));
    }
    return events;
  }
}
