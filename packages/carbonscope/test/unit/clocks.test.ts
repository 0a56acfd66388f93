import { expect } from 'chai';
import { suspendAwareClock } from '../../src/clocks.js';

describe('suspendAwareClock', () => {
  it('adds the time suspended, once a second of monotonic time has passed', () => {
    let mono = 5_000;
    let boot = 90_000;
    const clock = suspendAwareClock(
      () => mono,
      () => boot,
    );
    expect(clock()).to.equal(5_000);
    boot += 7_200_000; // asleep 2 h: the monotonic clock stood still
    mono += 1_000;
    boot += 1_000;
    expect(clock()).to.equal(7_206_000);
    mono += 500;
    boot += 500;
    expect(clock()).to.equal(7_206_500);
  });

  it('never goes back with a boot clock in whole seconds', () => {
    let mono = 0;
    const clock = suspendAwareClock(
      () => mono,
      () => Math.floor((mono + 999) / 1000) * 1000,
    );
    let last = clock();
    for (let i = 0; i < 50; i++) {
      mono += 333;
      const t = clock();
      expect(t).to.be.at.least(last);
      expect(t - mono).to.be.below(1000);
      last = t;
    }
  });
});
