// Keys, join secrets and peer addresses: what a node keeps in its data directory and reads from flags.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isTesseraError } from '../../shared/errors.js';
import { derivePresharedKey, generateJoinSecret, loadOrCreateJoinSecret, normalizeJoinSecret } from './join-secret.js';
import { STATIC_KEY_FILE, loadOrCreateStaticKeyPair, nodeIdFromPublicKey } from './keys.js';
import { formatPeerAddress, parsePeerAddress } from './peer-address.js';

const directories: string[] = [];
const freshDir = () => {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-mesh-identity-'));
  directories.push(directory);
  return directory;
};
after(() => directories.forEach((directory) => rmSync(directory, { recursive: true, force: true })));

describe('static key', () => {
  it('is created once, kept 0600, and gives a stable node id', async () => {
    const dataDir = freshDir();
    const first = await loadOrCreateStaticKeyPair(dataDir);
    const second = await loadOrCreateStaticKeyPair(dataDir);
    assert.deepEqual(second.publicKey, first.publicKey);
    assert.match(nodeIdFromPublicKey(first.publicKey), /^[0-9a-f]{32}$/);
    assert.equal(statSync(join(dataDir, 'mesh', STATIC_KEY_FILE)).mode & 0o777, 0o600);
  });

  it('reports a damaged key file instead of replacing it', async () => {
    const dataDir = freshDir();
    await loadOrCreateStaticKeyPair(dataDir);
    writeFileSync(join(dataDir, 'mesh', STATIC_KEY_FILE), '{"version":1}');
    await assert.rejects(loadOrCreateStaticKeyPair(dataDir), (error) => isTesseraError(error, 'DATA_DIR_INVALID'));
  });
});

describe('join secret', () => {
  it('is generated with 125 bits in five groups, stored 0600, and reused', async () => {
    assert.match(generateJoinSecret(), /^([0-9a-hjkmnp-tv-z]{5}-){4}[0-9a-hjkmnp-tv-z]{5}$/);
    assert.notEqual(generateJoinSecret(), generateJoinSecret());
    const dataDir = freshDir();
    const created = await loadOrCreateJoinSecret(dataDir);
    assert.equal(created.created, true);
    assert.equal(statSync(join(dataDir, 'mesh', 'join-secret')).mode & 0o777, 0o600);
    assert.deepEqual(await loadOrCreateJoinSecret(dataDir), { secret: created.secret, created: false });
    assert.deepEqual(await loadOrCreateJoinSecret(dataDir, 'my own secret'), { secret: 'my own secret', created: false });
    assert.equal((await loadOrCreateJoinSecret(dataDir)).secret, 'my own secret');
  });

  it('ignores case, spaces and dashes, and refuses short secrets', async () => {
    assert.equal(normalizeJoinSecret('AbCdE-FgHiJ'), normalizeJoinSecret('abcde fghij'));
    assert.deepEqual(await derivePresharedKey('AbCdE-FgHiJ'), await derivePresharedKey('abcdefghij'));
    assert.notDeepEqual(await derivePresharedKey('abcdefghij'), await derivePresharedKey('abcdefghik'));
    assert.throws(() => normalizeJoinSecret('short'), (error) => isTesseraError(error, 'JOIN_SECRET_INVALID'));
  });
});

describe('peer address', () => {
  it('parses host:port, [ipv6]:port and bare hosts', () => {
    assert.deepEqual(parsePeerAddress('192.168.1.5:7400'), { host: '192.168.1.5', port: 7400 });
    assert.deepEqual(parsePeerAddress('desk.local'), { host: 'desk.local', port: 7341 });
    assert.deepEqual(parsePeerAddress('[::1]:9000'), { host: '::1', port: 9000 });
    assert.equal(formatPeerAddress(parsePeerAddress('[fe80::1]:1')), '[fe80::1]:1');
    for (const bad of ['', 'host:0', 'host:70000', 'host:abc', 'a b:1']) {
      assert.throws(() => parsePeerAddress(bad), (error) => isTesseraError(error, 'CLI_BAD_ARGUMENT'), bad);
    }
  });
});
