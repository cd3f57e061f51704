import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LOAD_PROGRESS_INTERVAL_MS, LoadProgress } from './load-progress.js';

describe('LoadProgress', () => {
  const record = (total: number) => {
    let clock = 0;
    const reports: [number, number][] = [];
    const progress = new LoadProgress(total, (loaded, of) => reports.push([loaded, of]), () => clock);
    return { progress, reports, tick: (ms: number) => (clock += ms) };
  };

  it('reports 0 at once, then every 5% of the total, and the total once at the end', () => {
    const { progress, reports } = record(1000);
    for (let i = 0; i < 100; i++) progress.add(10);
    progress.finish();
    progress.finish();
    assert.deepEqual(reports[0], [0, 1000]);
    assert.deepEqual(reports.at(-1), [1000, 1000]);
    assert.equal(reports.filter(([loaded]) => loaded === 1000).length, 1);
    // 0, 50, 100, … 950, then the total: 21 reports, not 101.
    assert.equal(reports.length, 21);
  });

  it('also reports when 100 ms passed with less than a step read', () => {
    const { progress, reports, tick } = record(1_000_000);
    progress.add(10);
    assert.equal(reports.length, 1);
    tick(LOAD_PROGRESS_INTERVAL_MS);
    progress.add(10);
    assert.deepEqual(reports.at(-1), [20, 1_000_000]);
  });

  it('never reports more than the total, even when more bytes are read', () => {
    const { progress, reports } = record(100);
    progress.add(80);
    progress.add(80);
    progress.finish();
    assert.ok(reports.every(([loaded]) => loaded <= 100));
    assert.deepEqual(reports.at(-1), [100, 100]);
  });
});
