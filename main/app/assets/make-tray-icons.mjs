#!/usr/bin/env node
// Draws the tray icons in this folder: a 2×2 mosaic of tiles (a tessera is one tile of a mosaic),
// at 16 px and 32 px (`@2x`), as a coloured icon and as a black macOS template image.
// Run it again after changing the drawing: `node main/app/assets/make-tray-icons.mjs`.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const here = new URL('.', import.meta.url);

// Tile colours for the coloured icon, clockwise from top left; the template uses black for all,
// with the bottom-right tile drawn as an outline so the shape still reads at one colour.
const COLOURED = [
  [0x3b, 0x82, 0xf6],
  [0x14, 0xb8, 0xa6],
  [0x8b, 0x5c, 0xf6],
  [0xf5, 0x9e, 0x0b],
];

/** RGBA pixels of one icon, `size` × `size`. */
function draw(size, template) {
  const pixels = new Uint8Array(size * size * 4);
  const scale = size / 16;
  const tiles = [
    [1, 1],
    [9, 1],
    [9, 9],
    [1, 9],
  ];
  tiles.forEach(([left, top], index) => {
    const [red, green, blue] = template ? [0, 0, 0] : COLOURED[index];
    const hollow = template && index === 2;
    const x0 = left * scale;
    const y0 = top * scale;
    const side = 6 * scale;
    for (let y = y0; y < y0 + side; y++) {
      for (let x = x0; x < x0 + side; x++) {
        const edgeX = x === x0 || x === x0 + side - 1;
        const edgeY = y === y0 || y === y0 + side - 1;
        if (scale > 1 && edgeX && edgeY) continue; // rounded corners where there are pixels to spare
        const border = x < x0 + scale || x >= x0 + side - scale || y < y0 + scale || y >= y0 + side - scale;
        if (hollow && !border) continue;
        const at = (y * size + x) * 4;
        pixels.set([red, green, blue, 255], at);
      }
    }
  });
  return pixels;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A PNG file: 8-bit RGBA, no interlace, each row with filter type 0. */
function png(size, pixels) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rows.set(pixels.subarray(y * size * 4, (y + 1) * size * 4), y * (size * 4 + 1) + 1);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

for (const [name, template] of [
  ['tray', false],
  ['trayTemplate', true],
]) {
  writeFileSync(new URL(`${name}.png`, here), png(16, draw(16, template)));
  writeFileSync(new URL(`${name}@2x.png`, here), png(32, draw(32, template)));
}
console.log('make-tray-icons: wrote tray.png, tray@2x.png, trayTemplate.png, trayTemplate@2x.png');
