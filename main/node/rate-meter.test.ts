import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenRateMeter } from './rate-meter.js';

/** A meter on a clock the test moves by hand. */
function meterAt(start = 10_000, options: { windowMs?: number; minSpanMs?: number } = {}) {
  const clock = { now: start };
  const meter = new TokenRateMeter({ ...options, now: () => clock.now });
  return { meter, clock };
}

describe('TokenRateMeter', () => {
  it('reads 0 before anything is recorded', () => {
    assert.equal(meterAt().meter.rate(), 0);
  });

  it('measures a steady stream at its rate', () => {
    const { meter, clock } = meterAt();
    // 20 tokens/s for 10 s: one token every 50 ms.
    for (let index = 0; index < 200; index++) {
      clock.now += 50;
      meter.record();
    }
    const rate = meter.rate();
    assert.ok(Math.abs(rate - 20) < 0.5, `rate ${rate}`);
  });

  it('follows a change of speed within one window', () => {
    const { meter, clock } = meterAt(0, { windowMs: 2_000 });
    for (let index = 0; index < 100; index++) {
      clock.now += 10; // 100 tokens/s
      meter.record();
    }
    assert.ok(meter.rate() > 90);
    for (let index = 0; index < 40; index++) {
      clock.now += 100; // 10 tokens/s for 4 s: the fast part has left the window
      meter.record();
    }
    const rate = meter.rate();
    assert.ok(Math.abs(rate - 10) < 1, `rate ${rate}`);
  });

  it('falls to 0 once the window has passed with nothing recorded', () => {
    const { meter, clock } = meterAt(0, { windowMs: 5_000 });
    for (let index = 0; index < 50; index++) {
      clock.now += 20;
      meter.record();
    }
    assert.ok(meter.rate() > 0);
    clock.now += 2_000;
    const decaying = meter.rate();
    assert.ok(decaying > 0 && decaying < 50, `decaying ${decaying}`);
    clock.now += 3_100;
    assert.equal(meter.rate(), 0);
  });

  it('does not read one fresh token as a huge rate, and counts batches', () => {
    const { meter, clock } = meterAt(0, { minSpanMs: 1_000 });
    meter.record();
    assert.equal(meter.rate(), 1);
    meter.record(9); // same instant: one sample of 10
    assert.equal(meter.rate(), 10);
    clock.now += 2_000;
    meter.record(10);
    assert.equal(meter.rate(), 10); // 20 tokens over 2 s
    meter.record(0);
    meter.record(-3);
    assert.equal(meter.rate(), 10, 'nothing or less is not a token');
  });
});
