// Waits for Ctrl-C or SIGTERM so a long-running command can stop cleanly. A second signal while
// stopping exits at once, for the user who does not want to wait.

/** Resolves with the first SIGINT/SIGTERM; `onForce` runs if another arrives afterwards. */
export function waitForShutdownSignal(onForce: () => void = () => process.exit(130)): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
    const first = (signal: NodeJS.Signals) => {
      for (const name of signals) {
        process.off(name, first);
        process.once(name, onForce);
      }
      resolve(signal);
    };
    for (const name of signals) process.on(name, first);
  });
}
