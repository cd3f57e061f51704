// Lets one request at a time use a model, with a bounded line of waiting requests. A request
// whose client goes away while waiting leaves the line.

import { TesseraError } from '../../../shared/errors.js';

export class RequestQueue {
  private busy = false;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly maxWaiting: number) {}

  get length(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once it is this request's turn. */
  async enter(signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) throw aborted();
    if (!this.busy) {
      this.busy = true;
      return this.releaser();
    }
    if (this.waiting.length >= this.maxWaiting) {
      throw new TesseraError('QUEUE_FULL', `The model is busy and ${this.waiting.length} requests are already waiting; try again shortly.`);
    }
    await new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        signal.removeEventListener('abort', leave);
        resolve();
      };
      const leave = (): void => {
        const index = this.waiting.indexOf(turn);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(aborted());
      };
      this.waiting.push(turn);
      signal.addEventListener('abort', leave, { once: true });
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next === undefined) this.busy = false;
      else next();
    };
  }
}

function aborted(): TesseraError {
  return new TesseraError('GENERATION_ABORTED', 'the client went away');
}
