import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenIds } from './token-ids.js';

test('finds every token by its text, and nothing else', () => {
  const texts = Array.from({ length: 5000 }, (_, id) => `t${id.toString(36)}Ġ${'é'.repeat(id % 3)}`);
  const ids = new TokenIds(texts);
  for (let id = 0; id < texts.length; id++) assert.equal(ids.get(texts[id]!), id);
  assert.equal(ids.get('absent'), undefined);
  assert.equal(ids.get(''), undefined);
  assert.equal(ids.get('t0Ġ '), undefined);
});

test('a text held twice answers its later id, as Map.set did', () => {
  const ids = new TokenIds(['a', 'b', 'a', '', 'c', '']);
  assert.equal(ids.get('a'), 2);
  assert.equal(ids.get(''), 5);
  assert.equal(ids.get('b'), 1);
  assert.equal(ids.getPair('a', ''), 2);
});

test('getPair answers what get answers for the concatenation', () => {
  const texts = ['he', 'llo', 'hello', 'hel', 'lo', 'h', 'ello', '▁hello', '😀', '😀x'];
  const ids = new TokenIds(texts);
  for (const left of [...texts, '', 'x', '▁']) {
    for (const right of [...texts, '', 'x']) assert.equal(ids.getPair(left, right), ids.get(left + right), `${left} + ${right}`);
  }
});
