// `tessera models`: the models in this node's models folder (id, size, architecture, quantization,
// layers; a per-shard file shows the layers it holds).
import { formatBytes } from '../models/disk-space.js';
import { ModelStore, modelsDirOf } from '../models/model-store.js';
import type { CliCommand } from './command.js';
import { NODE_FLAGS, nodeConfigFromFlags } from './node-flags.js';

export const modelsCommand: CliCommand = {
  description: 'list the models downloaded to this node',
  flags: { 'data-dir': NODE_FLAGS['data-dir']! },
  run: async ({ flags, output }) => {
    const store = new ModelStore(modelsDirOf(nodeConfigFromFlags({ 'data-dir': flags['data-dir'] }).dataDir));
    const models = await store.list();
    if (models.length === 0) {
      output.out(`no models in ${store.dir} (get one with: tessera pull <owner/repo>)`);
      return 0;
    }
    const rows = models.map((model) => [
      model.id,
      formatBytes(model.sizeBytes),
      model.architecture ?? '?',
      model.quant ?? '?',
      model.layerCount === null ? '?' : model.shardLayers ? `${model.shardLayers[0]}-${model.shardLayers[1]} of ${model.layerCount}` : String(model.layerCount),
      model.error ?? (model.files.length > 1 ? `${model.files.length} files` : ''),
    ]);
    const header = ['ID', 'SIZE', 'ARCH', 'QUANT', 'LAYERS', ''];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
    for (const row of [header, ...rows]) output.out(row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
    return 0;
  },
};
