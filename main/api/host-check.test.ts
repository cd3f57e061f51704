import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHostCheck, hostnameOfHostHeader } from './host-check.js';

const check = createHostCheck({ configuredHost: '127.0.0.1', machineHostname: 'Desk-1' });

test('localhost names, IP literals and this machine are served', () => {
  for (const host of ['localhost', 'localhost:7340', 'LOCALHOST.:7340', '127.0.0.1:7340', '[::1]:7340', '192.168.1.20:7340', 'desk-1:7340', 'desk-1.local', 'app.localhost:80']) {
    assert.equal(check(host), true, host);
  }
});

test('other names (DNS rebinding) and malformed headers are refused', () => {
  for (const host of [undefined, '', 'evil.example', 'evil.example:7340', '127.0.0.1.evil.example', 'localhost.evil.example', 'user@localhost', '[::1', '[::1]x', 'localhost:abc']) {
    assert.equal(check(host), false, String(host));
  }
});

test('a configured host name is served', () => {
  const lan = createHostCheck({ configuredHost: 'tessera.lan', machineHostname: 'desk-1' });
  assert.equal(lan('tessera.lan:7340'), true);
  assert.equal(lan('other.lan:7340'), false);
});

test('host header parsing strips port, brackets, case and a trailing dot', () => {
  assert.equal(hostnameOfHostHeader('Example.COM.:80'), 'example.com');
  assert.equal(hostnameOfHostHeader('[::1]:7340'), '::1');
  assert.equal(hostnameOfHostHeader('[::1]'), '::1');
  assert.equal(hostnameOfHostHeader('a b'), undefined);
});
