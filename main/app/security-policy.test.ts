// The shell's security checklist (issue 6): context isolation, sandbox, no Node in the page,
// navigation and new windows kept to the node's own UI, IPC answered only for that UI's top frame.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTrustedIpcSender, navigationVerdict, originOf, secureWebPreferences } from './security-policy.js';

const NODE_ORIGIN = 'http://127.0.0.1:7340';

test('the window runs isolated and sandboxed, with no Node, no webview and web security on', () => {
  const preferences = secureWebPreferences('/app/dist/main/app/preload/index.js');
  assert.equal(preferences.preload, '/app/dist/main/app/preload/index.js');
  assert.equal(preferences.contextIsolation, true);
  assert.equal(preferences.sandbox, true);
  assert.equal(preferences.nodeIntegration, false);
  assert.equal(preferences.nodeIntegrationInWorker, false);
  assert.equal(preferences.nodeIntegrationInSubFrames, false);
  assert.equal(preferences.webSecurity, true);
  assert.equal(preferences.allowRunningInsecureContent, false);
  assert.equal(preferences.webviewTag, false);
  assert.equal(preferences.experimentalFeatures, false);
});

test('navigation stays on the node’s origin; web links go to the browser; other schemes are dropped', () => {
  const cases: [string, string | undefined, string][] = [
    [`${NODE_ORIGIN}/`, NODE_ORIGIN, 'allow'],
    [`${NODE_ORIGIN}/chat?x=1#y`, NODE_ORIGIN, 'allow'],
    ['http://127.0.0.1:7341/', NODE_ORIGIN, 'open-outside'], // another port is another origin (the mesh, a peer)
    ['http://localhost:7340/', NODE_ORIGIN, 'open-outside'], // same server, different origin: not trusted
    ['https://github.com/tessera', NODE_ORIGIN, 'open-outside'],
    ['file:///etc/passwd', NODE_ORIGIN, 'block'],
    ['javascript:alert(1)', NODE_ORIGIN, 'block'],
    ['data:text/html,<script>1</script>', NODE_ORIGIN, 'block'],
    ['tessera://evil', NODE_ORIGIN, 'block'],
    ['not a url', NODE_ORIGIN, 'block'],
    [`${NODE_ORIGIN}/`, undefined, 'open-outside'], // before the node is up nothing is trusted
  ];
  for (const [url, trusted, verdict] of cases) assert.equal(navigationVerdict(url, trusted), verdict, url);
});

test('IPC is answered only for the top frame of a page on the node’s origin', () => {
  assert.equal(isTrustedIpcSender({ url: `${NODE_ORIGIN}/devices`, isMainFrame: true }, NODE_ORIGIN), true);
  assert.equal(isTrustedIpcSender({ url: `${NODE_ORIGIN}/devices`, isMainFrame: false }, NODE_ORIGIN), false, 'an iframe');
  assert.equal(isTrustedIpcSender({ url: 'https://example.com/', isMainFrame: true }, NODE_ORIGIN), false);
  assert.equal(isTrustedIpcSender({ url: 'http://127.0.0.1:9999/', isMainFrame: true }, NODE_ORIGIN), false);
  assert.equal(isTrustedIpcSender({ url: 'file:///index.html', isMainFrame: true }, NODE_ORIGIN), false);
  assert.equal(isTrustedIpcSender({ url: 'about:blank', isMainFrame: true }, NODE_ORIGIN), false);
  assert.equal(isTrustedIpcSender(null, NODE_ORIGIN), false, 'a frame already gone');
  assert.equal(isTrustedIpcSender({ url: `${NODE_ORIGIN}/`, isMainFrame: true }, undefined), false, 'no node yet');
});

test('opaque origins match nothing, not even each other', () => {
  assert.equal(originOf('file:///a'), undefined);
  assert.equal(originOf('data:text/plain,x'), undefined);
  assert.equal(originOf('http://127.0.0.1:7340/x'), NODE_ORIGIN);
  assert.equal(navigationVerdict('file:///a', originOf('file:///b')), 'block');
});
