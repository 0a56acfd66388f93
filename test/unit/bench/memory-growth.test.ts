import { expect } from 'chai';
import type { Reading } from '../../bench/growth-trend.js';
import {
  FULL_GCS_NEEDED,
  heapAfterFullGcs,
  heapGrowth,
  memoryGrowth,
} from '../../bench/memory-growth.js';

// RSS every 10 s of the soak of 2026-12-02 08:10 UTC: the heap filling towards a full collection.
// A five-minute soak right after swung between 208 and 298 MiB with no trend.
const RSS_SWING = [244, 270, 292, 296, 295, 299];

/** `values` 10 s apart. */
const every10s = (values: readonly number[]): Reading[] =>
  values.map((value, i) => ({ atSeconds: i * 10, value }));

describe('bench: memory growth under the soak', () => {
  it('reads the heap after each full collection, and when, from --trace-gc output', () => {
    const trace = [
      '[4242:0x5a1c0e0]    23456 ms: Scavenge 120.4 (140.1) -> 110.2 (140.1) MB, 1.20 / 0.00 ms  (average mu = 0.99, current mu = 0.98) allocation failure;',
      '[4242:0x5a1c0e0]    23501 ms: Mark-Compact 180.2 (200.1) -> 95.3 (190.0) MB, 12.34 / 0.00 ms  (+ 5.3 ms in 11 steps since start of marking) finalize incremental marking via stack guard; GC in old space requested',
      '{"level":30,"msg":"request"}',
      '[4242:0x5a1c0e0]    61002 ms: Mark-Compact (reduce) 101.0 (190.0) -> 96.5 (150.0) MB, 20.1 / 0.00 ms  (average mu = 0.97, current mu = 0.95) memory reducer',
    ].join('\n');
    expect(heapAfterFullGcs(trace)).to.deep.equal([
      { atSeconds: 23.501, value: 95.3 },
      { atSeconds: 61.002, value: 96.5 },
    ]);
  });

  it('judges the heap after full collections, not an RSS that swings with them', () => {
    const heaps = every10s([96.1, 95.4, 97.0, 95.8, 96.3, 96.9, 95.7, 96.2]);
    const rss = memoryGrowth(RSS_SWING, []);
    expect(rss).to.include({ judgedOn: 'rss', verdict: 'FAIL' });
    const verdict = memoryGrowth(RSS_SWING, heaps);
    expect(verdict).to.include({ judgedOn: 'heap', verdict: 'PASS' });
  });

  it('FAILs a heap that keeps more after every full collection', () => {
    const leaking = every10s([90, 93, 96, 99, 102, 105, 108, 111, 114]);
    const verdict = memoryGrowth(Array(20).fill(300), leaking);
    expect(verdict).to.include({ judgedOn: 'heap', verdict: 'FAIL' });
    if (verdict.judgedOn !== 'heap') return;
    expect(verdict.trend.growth).to.be.closeTo(24 / 90, 1e-9);
  });

  it(`judges RSS where fewer than ${FULL_GCS_NEEDED} full collections ran`, () => {
    const verdict = memoryGrowth([200, 202, 201, 240, 241, 242], every10s([95, 96, 97]));
    expect(verdict).to.include({ judgedOn: 'rss', early: 200, late: 241, verdict: 'FAIL' });
  });

  it(`leaves the heap unresolved with fewer than ${FULL_GCS_NEEDED} full collections`, () => {
    // Steady to 0.1 MB, but five readings are not what the soak decides on.
    expect(heapGrowth(every10s([37, 37.1, 37, 37.1, 37])).verdict).to.equal('UNRESOLVED');
  });
});
