// The node's flags as the Electron main process receives them. Chromium, Playwright and the OS
// add switches of their own (`--inspect=0`, `--remote-debugging-port=0`, `-psn_…` on macOS), so
// the parse is lenient: it picks out the node's flags and ignores the rest.
import { parseArgs } from 'node:util';
import type { FlagValues } from '../cli/command.js';
import { NODE_FLAGS } from '../cli/node-flags.js';

/**
 * `argv` is `process.argv`: `[electron, appRoot, ...flags]` when run from the sources or dist/,
 * `[executable, ...flags]` in a packaged app. Short forms are not read: they could clash with
 * switches Chromium passes.
 */
export function appFlags(argv: readonly string[], isPackaged: boolean): FlagValues {
  const options = Object.fromEntries(
    Object.entries(NODE_FLAGS).map(([name, flag]) => [name, { type: flag.type, ...(flag.multiple ? { multiple: true } : {}) }]),
  );
  const args = argv.slice(isPackaged ? 1 : 2);
  return parseArgs({ args, options, strict: false, allowPositionals: true }).values as FlagValues;
}
