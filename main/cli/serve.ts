// `tessera serve`: a headless node. Prints where its UI and APIs are, then runs until Ctrl-C.
import { createNode, type TesseraNode } from '../node/node.js';
import type { CliCommand, CliOutput } from './command.js';
import { NODE_FLAGS, nodeConfigFromFlags } from './node-flags.js';
import { waitForShutdownSignal } from './shutdown-signal.js';

export const serveCommand: CliCommand = {
  description: 'run a headless node (UI and APIs on one local port)',
  flags: NODE_FLAGS,
  run: async ({ flags, output }) => serveHeadless(nodeConfigFromFlags(flags), output),
};

/** Starts a node, prints its addresses, and stops it on SIGINT/SIGTERM. Also used by `start`. */
export async function serveHeadless(config: Parameters<typeof createNode>[0], output: CliOutput): Promise<number> {
  const node = await createNode(config);
  // Listen before printing: whoever reads the addresses may stop the node at once, and a signal
  // with no listener yet would kill the process without a clean stop.
  const shutdown = waitForShutdownSignal();
  printAddresses(node, output);
  const signal = await shutdown;
  output.out(`${signal === 'SIGINT' ? '\n' : ''}Stopping…`);
  await node.stop();
  output.out('Stopped.');
  return 0;
}

function printAddresses(node: TesseraNode, output: CliOutput): void {
  const info = node.info();
  output.out(`Tessera ${info.version}: node "${info.name}" (${info.id})`);
  output.out(`  UI:          ${node.uiUrl}`);
  output.out(`  Control API: ${node.url}/api`);
  output.out(`  OpenAI API:  ${node.openAiUrl}`);
  output.out(`  Data dir:    ${node.config.dataDir}`);
  if (node.cluster !== undefined) {
    const mesh = node.cluster.mesh;
    output.out(`  Mesh:        port ${mesh.port} (node ${mesh.nodeId})`);
    if (mesh.joinSecretCreated) output.out(`  Join secret: ${mesh.joinSecret}  (new: give it to other nodes with --join)`);
  }
  for (const model of node.models.list()) {
    const info = model.engine.info;
    output.out(`  Model:       ${model.id} (${info.architecture}, ${info.nLayers} layers, context ${info.contextLength}, ${info.backend} × ${info.threads} threads)`);
  }
  output.out('Open the UI link in a browser (it carries this node’s token). Press Ctrl-C to stop.');
}
