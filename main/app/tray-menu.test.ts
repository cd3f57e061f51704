import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trayMenuTemplate } from './tray-menu.js';
import { trayText } from './tray-status.js';

test('the tray menu shows the status greyed out, then Show Window, Copy API URL and Quit', () => {
  const called: string[] = [];
  const template = trayMenuTemplate(trayText({ nodeCount: 2, modelIds: ['qwen3-tiny'], tokensPerSecond: 8 }), {
    showWindow: () => called.push('show'),
    copyApiUrl: () => called.push('copy'),
    quit: () => called.push('quit'),
  });
  assert.deepEqual(
    template.map((item) => item.label ?? item.type),
    ['Cluster: 2 nodes', 'Model: qwen3-tiny', '8.0 tokens/s (last answer)', 'separator', 'Show Window', 'Copy API URL', 'separator', 'Quit Tessera'],
  );
  assert.deepEqual(template.slice(0, 3).map((item) => item.enabled), [false, false, false]);
  for (const label of ['Show Window', 'Copy API URL', 'Quit Tessera']) {
    const item = template.find((entry) => entry.label === label)!;
    assert.notEqual(item.enabled, false, label);
    // Electron passes (menuItem, window, event); the actions ignore them.
    (item.click as () => void)();
  }
  assert.deepEqual(called, ['show', 'copy', 'quit']);
});
