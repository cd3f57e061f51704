// A tiny typed publish/subscribe for the node's control events. Listeners are called
// synchronously; one that throws is reported and does not stop the others.
export type Unsubscribe = () => void;

export class EventBus<Event> {
  readonly #listeners = new Set<(event: Event) => void>();

  subscribe(listener: (event: Event) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: Event): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        console.error('tessera: event listener failed:', error);
      }
    }
  }

  get size(): number {
    return this.#listeners.size;
  }
}
