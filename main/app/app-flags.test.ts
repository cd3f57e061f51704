import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeConfigFromFlags } from '../cli/node-flags.js';
import { appFlags } from './app-flags.js';

test('the node’s flags are read from among the switches Electron and Playwright add', () => {
  const argv = ['/opt/electron', '/repo', '--inspect=0', '--remote-debugging-port=0', '--port=7411', '--data-dir=/tmp/t', '--no-discovery', '--peer=10.0.0.2:7341', '--peer', '10.0.0.3:7341', '--mesh-port=0'];
  const flags = appFlags(argv, false);
  assert.equal(flags.port, '7411');
  assert.deepEqual(flags.peer, ['10.0.0.2:7341', '10.0.0.3:7341']);
  const config = nodeConfigFromFlags(flags, {});
  assert.equal(config.port, 7411);
  assert.equal(config.dataDir, '/tmp/t');
  assert.deepEqual(config.mesh, { port: 0, peers: ['10.0.0.2:7341', '10.0.0.3:7341'], discovery: false });
});

test('a packaged app has no app path before its flags', () => {
  assert.equal(appFlags(['/Applications/Tessera.app/Contents/MacOS/Tessera', '--port=7500'], true).port, '7500');
  // From the sources the second argument is the app path, never a flag.
  assert.equal(appFlags(['/opt/electron', '--port=7500'], false).port, undefined);
});
