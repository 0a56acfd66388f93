import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { bootClock, monotonicClock } from '../../../src/energy/index.js';

describe('monotonicClock', () => {
  it('reads what performance.now() reads, to well under a millisecond', () => {
    for (let i = 0; i < 1000; i++) {
      const before = performance.now();
      const now = monotonicClock();
      const after = performance.now();
      // The two clocks are one (libuv's hrtime); only the order of the reads separates them.
      expect(now).to.be.within(before - 0.05, after + 0.05);
    }
  });

  it('never goes back and keeps sub-microsecond steps', () => {
    const reads = new Float64Array(100_000);
    for (let i = 0; i < reads.length; i++) reads[i] = monotonicClock();
    let smallest = Number.POSITIVE_INFINITY;
    let backwards = 0;
    for (let i = 1; i < reads.length; i++) {
      const step = reads[i] - reads[i - 1];
      if (step < 0) backwards++;
      else if (step > 0) smallest = Math.min(smallest, step);
    }
    expect(backwards).to.equal(0);
    expect(smallest).to.be.below(0.001);
  });
});

describe('bootClock', () => {
  it('runs with the monotonic clock while awake, to its 10 ms steps (Linux), and is absent elsewhere', async function () {
    if (process.platform !== 'linux') {
      expect(bootClock).to.equal(undefined);
      return this.skip();
    }
    const boot = bootClock as () => number;
    const [boot0, mono0] = [boot(), monotonicClock()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ran = boot() - boot0 - (monotonicClock() - mono0);
    // Far under the sampler's 1 s: no interval awake is taken to span a suspend.
    expect(Math.abs(ran)).to.be.below(30);
  });
});
