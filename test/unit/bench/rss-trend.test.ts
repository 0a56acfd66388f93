import { expect } from 'chai';
import { median } from '../../bench/load.js';
import { rssFloors, rssGrowth } from '../../bench/rss-trend.js';

/** A heap that fills from `floor` by `step` a sample and is collected back to it `cycles` times. */
function sawtooth(floors: readonly number[], step: number, samplesPerCycle: number): number[] {
  const trend: number[] = [];
  for (const floor of floors) {
    for (let i = 0; i < samplesPerCycle; i++) trend.push(floor + i * step);
  }
  return trend;
}

describe('bench: RSS growth under the soak', () => {
  it('reads no growth from a heap that fills and is collected back to the same floor', () => {
    // As in the soak of 2026-12-02 08:10 UTC: a GC cycle longer than a third of the window puts
    // the first third near a trough and the last near a peak.
    const trend = [
      232, 238, 244, 250, 226, 230, 235, 241, 246, 252, 257, 262, 268, 273, 278, 284, 289, 295, 300,
      229, 232, 238, 244, 251, 257, 263, 269, 275, 281, 288, 294, 300,
    ];
    const third = trend.length / 3;
    const levels = median(trend.slice(-third)) / median(trend.slice(0, third)) - 1;
    expect(levels, 'the medians of the thirds').to.be.above(0.1);
    const verdict = rssGrowth(trend);
    expect(verdict.judgedOn).to.equal('floors');
    expect([verdict.early, verdict.late]).to.deep.equal([226, 229]);
    expect(verdict.growth).to.be.closeTo(229 / 226 - 1, 1e-9);
  });

  it('reads a leak from floors that rise cycle after cycle', () => {
    const verdict = rssGrowth(sawtooth([200, 215, 230, 245], 5, 10));
    expect(verdict.judgedOn).to.equal('floors');
    // The first cycle's start follows no fall: not a floor.
    expect(rssFloors(sawtooth([200, 215, 230, 245], 5, 10))).to.deep.equal([215, 230, 245]);
    expect([verdict.early, verdict.late]).to.deep.equal([215, 245]);
    expect(verdict.growth).to.be.closeTo(245 / 215 - 1, 1e-9);
  });

  it('finds a floor after each fall of at least 5 % from the peak before it, not in jitter', () => {
    expect(rssFloors([100, 110, 108, 111, 120, 90, 88, 95, 130, 101])).to.deep.equal([88, 101]);
    expect(rssFloors([100, 98, 101, 99, 102, 100])).to.deep.equal([]);
  });

  it('falls back to the levels of the first and last third when RSS never fell twice', () => {
    const climbing = [244, 270, 292, 296, 295, 299];
    const verdict = rssGrowth(climbing);
    expect(verdict.judgedOn).to.equal('levels');
    expect(verdict.early).to.equal(244);
    expect(verdict.late).to.equal(295);
    expect(verdict.growth).to.be.closeTo(295 / 244 - 1, 1e-9);
  });
});
