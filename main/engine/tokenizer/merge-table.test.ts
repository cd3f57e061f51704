import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MergeTable } from './merge-table.js';
import { TokenIds } from './token-ids.js';

const TOKENS = ['a', 'b', 'c', 'ab', 'abc', 'x y', 'bc'];
const ids = new TokenIds(TOKENS);
const id = (text: string): number => ids.get(text) ?? -1;

function lookup(table: MergeTable, left: string, right: string): { rank: number; made: number } | undefined {
  const slot = table.find(id(left), id(right));
  if (slot >= 0) return { rank: table.rankAt(slot), made: table.madeAt(slot) };
  const rank = table.hasTextMerges ? table.rankOfText(left, right) : undefined;
  return rank === undefined ? undefined : { rank, made: ids.getPair(left, right) ?? -1 };
}

test('merges of two tokens are found by id pair, with their rank and the token they make', () => {
  const table = new MergeTable(['a b', 'ab c', 'b c', 'a b'], ids);
  assert.equal(table.hasTextMerges, false);
  assert.deepEqual(lookup(table, 'a', 'b'), { rank: 0, made: id('ab') });
  assert.deepEqual(lookup(table, 'ab', 'c'), { rank: 1, made: id('abc') });
  assert.deepEqual(lookup(table, 'b', 'c'), { rank: 2, made: id('bc') });
  assert.equal(lookup(table, 'b', 'a'), undefined);
  assert.equal(table.find(-1, id('a')), -1);
});

test('a merge making no token is still ranked', () => {
  const table = new MergeTable(['c a'], ids);
  assert.deepEqual(lookup(table, 'c', 'a'), { rank: 0, made: -1 });
});

test('merges ids cannot key are answered by text, with the first rank', () => {
  // 'q' is no token; 'x y c' does not say where its left side ends.
  const table = new MergeTable(['a b', 'q a', 'x y c', 'q a', 'nospace'], ids);
  assert.equal(table.hasTextMerges, true);
  assert.deepEqual(lookup(table, 'q', 'a'), { rank: 1, made: -1 });
  assert.deepEqual(lookup(table, 'x y', 'c'), { rank: 2, made: -1 });
  assert.deepEqual(lookup(table, 'a', 'b'), { rank: 0, made: id('ab') });
  assert.equal(lookup(table, 'no', 'space'), undefined);
});

test('many merges: every one found, absent pairs not', () => {
  const texts = Array.from({ length: 3000 }, (_, i) => `w${i}`);
  const many = new TokenIds(texts);
  const merges = Array.from({ length: 2000 }, (_, i) => `w${i} w${(i * 7) % 3000}`);
  const table = new MergeTable(merges, many);
  for (let i = 0; i < merges.length; i++) {
    const slot = table.find(i, (i * 7) % 3000);
    assert.ok(slot >= 0);
    assert.equal(table.rankAt(slot), i);
  }
  assert.equal(table.find(1, 2), -1);
});
