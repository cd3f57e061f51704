// Hands the node's events to the pages that want them: useNode feeds every event in, pages listen
// with useControlEvents while they are shown.
import { useEffect, useRef } from 'react';
import type { ControlEvent } from '../../shared/control.js';

type Listener = (event: ControlEvent) => void;

export class EventHub {
  readonly #listeners = new Set<Listener>();

  emit(event: ControlEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  listen(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Calls `handler` (its latest version) for each event while the component is mounted. */
export function useControlEvents(hub: EventHub, handler: Listener): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => hub.listen((event) => latest.current(event)), [hub]);
}
