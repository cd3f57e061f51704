import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { trayIconPath } from './tray-icon.js';

/** Width, height and the RGBA rows (filter byte first) of an 8-bit RGBA PNG. */
async function readPng(path: string): Promise<{ width: number; height: number; rows: Buffer }> {
  const file = await readFile(path);
  assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} is a PNG`);
  assert.equal(file.toString('ascii', 12, 16), 'IHDR');
  const width = file.readUInt32BE(16);
  const height = file.readUInt32BE(20);
  assert.deepEqual([file[24], file[25]], [8, 6], 'eight-bit RGBA');
  const data: Buffer[] = [];
  for (let at = 8; at < file.length; ) {
    const length = file.readUInt32BE(at);
    if (file.toString('ascii', at + 4, at + 8) === 'IDAT') data.push(file.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  return { width, height, rows: inflateSync(Buffer.concat(data)) };
}

test('each platform gets a tray icon that exists, at 16 px with a 32 px @2x beside it', async () => {
  assert.equal(basename(trayIconPath('darwin')), 'trayTemplate.png'); // macOS tints template images
  assert.equal(basename(trayIconPath('linux')), 'tray.png');
  assert.equal(basename(trayIconPath('win32')), 'tray.png');
  for (const platform of ['darwin', 'linux'] as const) {
    const normal = trayIconPath(platform);
    for (const [path, size] of [[normal, 16], [normal.replace(/\.png$/, '@2x.png'), 32]] as const) {
      const png = await readPng(path);
      assert.deepEqual([png.width, png.height], [size, size], path);
      assert.equal(png.rows.length, size * (size * 4 + 1));
      let opaque = 0;
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) if (png.rows[y * (size * 4 + 1) + 1 + x * 4 + 3] === 255) opaque++;
      // Something is drawn, and it is not a filled square: the mosaic has gaps.
      assert.ok(opaque > size * size * 0.3 && opaque < size * size * 0.9, `${path}: ${opaque} opaque pixels`);
    }
  }
});
