// `tessera rm <model>`: deletes a downloaded model (every part of a split one, partial downloads
// and its manifest).
import { TesseraError } from '../../shared/errors.js';
import { formatBytes } from '../models/disk-space.js';
import { ModelStore, modelsDirOf } from '../models/model-store.js';
import type { CliCommand } from './command.js';
import { NODE_FLAGS, nodeConfigFromFlags } from './node-flags.js';

export const rmCommand: CliCommand = {
  description: 'delete a downloaded model',
  usage: '<model-id> [options]',
  positionals: true,
  flags: { 'data-dir': NODE_FLAGS['data-dir']! },
  run: async ({ flags, positionals, output }) => {
    if (positionals.length === 0) throw new TesseraError('CLI_BAD_ARGUMENT', 'rm takes the id of a model (see tessera models)');
    const store = new ModelStore(modelsDirOf(nodeConfigFromFlags({ 'data-dir': flags['data-dir'] }).dataDir));
    for (const id of positionals) {
      const removed = await store.remove(id);
      output.out(`removed ${removed.id} (${formatBytes(removed.sizeBytes)})`);
    }
    return 0;
  },
};
