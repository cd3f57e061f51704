import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PieceTable } from './piece-table.js';

test('every piece comes back byte for byte, empty ones included, across buffer growth', () => {
  // 3 000 pieces of up to 40 bytes outgrow the initial 8-bytes-per-piece guess.
  const pieces = Array.from({ length: 3000 }, (_, id) => Uint8Array.from({ length: (id * 7) % 41 }, (_, i) => (id + i) & 0xff));
  const table = new PieceTable(pieces.length, (id) => pieces[id]!);
  assert.equal(table.size, pieces.length);
  for (let id = 0; id < pieces.length; id++) assert.deepEqual(table.piece(id), pieces[id]);
  assert.equal(table.piece(0).length, 0);
});
