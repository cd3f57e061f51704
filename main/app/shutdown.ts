// Quitting the app stops the node first and waits for it: downloads are stopped, sockets closed,
// engine workers ended. Plain Node (no Electron) so the logic is tested against a real node;
// main.ts calls it from `before-quit` and from SIGTERM/SIGINT.

/** How long Quit waits for the node to stop before the app exits anyway. */
export const NODE_STOP_TIMEOUT_MS = 15_000;

export type StopOutcome = { state: 'stopped' } | { state: 'failed'; error: unknown } | { state: 'timed-out'; afterMs: number };

/** Stops the node once, however many times quitting is asked for, and says how it went. */
export class NodeShutdown {
  #running: Promise<StopOutcome> | undefined;
  #outcome: StopOutcome | undefined;

  constructor(
    private readonly stopNode: () => Promise<void>,
    private readonly timeoutMs: number = NODE_STOP_TIMEOUT_MS,
  ) {}

  /** Whether stopping has begun (a second quit request then means "hurry"). */
  get started(): boolean {
    return this.#running !== undefined;
  }

  /** The result once stopping has ended, else undefined. */
  get outcome(): StopOutcome | undefined {
    return this.#outcome;
  }

  run(): Promise<StopOutcome> {
    this.#running ??= this.#stop().then((outcome) => (this.#outcome = outcome));
    return this.#running;
  }

  async #stop(): Promise<StopOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<StopOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'timed-out', afterMs: this.timeoutMs }), this.timeoutMs);
    });
    const stopping = this.stopNode().then(
      (): StopOutcome => ({ state: 'stopped' }),
      (error: unknown): StopOutcome => ({ state: 'failed', error }),
    );
    try {
      return await Promise.race([stopping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export const TERMINATION_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
export type TerminationSignal = (typeof TERMINATION_SIGNALS)[number];

/**
 * Calls `handler` when the process is told to end (`tessera start` passes SIGTERM on; Ctrl-C in
 * a terminal sends SIGINT), instead of dying with the node's work unfinished. Returns the undo.
 */
export function onTerminationSignals(handler: (signal: TerminationSignal) => void): () => void {
  const listeners = TERMINATION_SIGNALS.map((signal) => [signal, () => handler(signal)] as const);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}
