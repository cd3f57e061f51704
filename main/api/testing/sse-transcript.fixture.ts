// Reads a whole server-sent-events response into its events, for tests that check a stream's
// transcript event by event.

export interface SseEvent {
  /** The `event:` name, if the frame had one. */
  readonly event?: string;
  readonly data: string;
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const frame of text.split('\n\n')) {
    if (frame.trim() === '') continue;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    events.push({ ...(event === undefined ? {} : { event }), data: data.join('\n') });
  }
  return events;
}
