import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StopSequenceMatcher } from './stop-sequences.js';

interface Case {
  name: string;
  stops: string[];
  pieces: string[];
  /** What each push releases, then what flush releases. */
  released: string[];
  stoppedBy?: string;
}

const CASES: Case[] = [
  { name: 'no stops passes everything through', stops: [], pieces: ['a', 'b'], released: ['a', 'b', ''] },
  { name: 'stop inside one piece', stops: ['END'], pieces: ['abcENDdef'], released: ['abc', ''], stoppedBy: 'END' },
  { name: 'stop across pieces', stops: ['END'], pieces: ['abE', 'N', 'Dxyz'], released: ['ab', '', '', ''], stoppedBy: 'END' },
  { name: 'held text released when it cannot be a stop', stops: ['END'], pieces: ['abE', 'Nx', 'y'], released: ['ab', 'ENx', 'y', ''] },
  { name: 'held prefix released on flush', stops: ['</s>'], pieces: ['hello <', '/'], released: ['hello ', '', '</'] },
  { name: 'earliest stop wins', stops: ['bc', 'ab'], pieces: ['xabc'], released: ['x', ''], stoppedBy: 'ab' },
  { name: 'longer stop wins at the same position', stops: ['a', 'ab'], pieces: ['xab'], released: ['x', ''], stoppedBy: 'ab' },
  { name: 'nothing after a stop is released', stops: ['.'], pieces: ['one.', 'two'], released: ['one', '', ''], stoppedBy: '.' },
  {
    name: 'overlapping prefix: "aab" with stop "ab" across pieces',
    stops: ['ab'],
    pieces: ['a', 'a', 'b'],
    released: ['', 'a', '', ''],
    stoppedBy: 'ab',
  },
  { name: 'unicode stop string', stops: ['😀'], pieces: ['hi ', '😀 there'], released: ['hi ', '', ''], stoppedBy: '😀' },
];

for (const testCase of CASES) {
  test(`stop sequences: ${testCase.name}`, () => {
    const matcher = new StopSequenceMatcher(testCase.stops);
    const released: string[] = [];
    let stoppedBy: string | undefined;
    for (const piece of testCase.pieces) {
      const result = matcher.push(piece);
      released.push(result.text);
      stoppedBy ??= result.stoppedBy;
    }
    released.push(matcher.flush());
    assert.deepEqual(released, testCase.released);
    assert.equal(stoppedBy, testCase.stoppedBy);
  });
}
