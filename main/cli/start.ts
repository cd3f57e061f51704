// `tessera start` (what `npm start` runs): the desktop app where Electron is installed and a
// display exists; otherwise one line saying why, and the same node headless.
import { electronAvailability, launchElectron } from '../app/launch.js';
import type { CliCommand } from './command.js';
import { NODE_FLAGS, nodeConfigFromFlags } from './node-flags.js';
import { serveHeadless } from './serve.js';

export const startCommand: CliCommand = {
  description: 'open the desktop app (or run headless where Electron cannot start)',
  flags: NODE_FLAGS,
  run: async ({ flags, output }) => {
    const config = nodeConfigFromFlags(flags); // bad flags fail here, before any window opens
    const electron = electronAvailability();
    if (electron.available) {
      // Every flag as given: booleans bare, repeatable ones once per value.
      const forwarded = Object.keys(NODE_FLAGS).flatMap((name) => {
        const value: unknown = flags[name];
        if (value === true) return [`--${name}`];
        if (Array.isArray(value)) return value.map((item) => `--${name}=${String(item)}`);
        return typeof value === 'string' ? [`--${name}=${value}`] : [];
      });
      return launchElectron(electron.binary, electron.appRoot, forwarded);
    }
    output.error(`Desktop app unavailable: ${electron.reason}; running headless instead.`);
    return serveHeadless(config, output);
  },
};
