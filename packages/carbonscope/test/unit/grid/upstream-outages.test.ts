import { expect } from 'chai';
import { UpstreamOutages } from '../../../src/grid/upstream-outages.js';
import { memoryLogger } from '../energy/scripted.js';

const failure = { reason: 'Electricity Maps answered 503', level: 'warn' as const, fields: {} };

describe('grid: a zone whose lookups fail and succeed by turns', () => {
  it('is told in a handful of lines over an hour, not a warning and a recovery per lookup', () => {
    const { logger, lines } = memoryLogger();
    const outages = new UpstreamOutages(logger, 'latest');
    // A failed lookup is asked again after the 30 s hold-down, a good one after the TTL (5 min).
    for (let t = 0; t < 3_600_000; t += 30_000 + 300_000) {
      outages.failed('DE', failure, 'using the annual average', t);
      outages.recovered('DE', t + 30_000);
    }
    // Before: a warning and a recovery per pair of lookups, 22 lines.
    expect(lines.map((l) => l.msg)).to.deep.equal([
      'grid: zone DE: Electricity Maps answered 503; using the annual average',
      'grid: zone DE: Electricity Maps answers again after 30 s; its live values are used again',
      'grid: zone DE: failing on and off, failed 2 of the last 3 lookups in 5 min: Electricity Maps answered 503; using the annual average',
      'grid: zone DE: failing on and off, failed 2 of the last 4 lookups in 11 min: Electricity Maps answered 503; using the annual average',
      'grid: zone DE: failing on and off, failed 2 of the last 4 lookups in 11 min: Electricity Maps answered 503; using the annual average',
      'grid: zone DE: failing on and off, failed 2 of the last 4 lookups in 11 min: Electricity Maps answered 503; using the annual average',
      'grid: zone DE: failing on and off, failed 2 of the last 4 lookups in 11 min: Electricity Maps answered 503; using the annual average',
    ]);
    expect(lines[3]).to.include({ failedLookups: 2, lookups: 4, overSeconds: 660, level: 40 });
  });

  it('says the end of its flapping once it held for 10 min, and then forgets the zone', () => {
    const { logger, lines } = memoryLogger();
    const outages = new UpstreamOutages(logger, 'history');
    for (const t of [0, 60_000, 120_000]) {
      outages.failed('FR', failure, 'serving the last good history', t);
      outages.recovered('FR', t + 30_000);
    }
    outages.recovered('FR', 120_000 + 30_000 + 5 * 60_000);
    expect(lines).to.have.length(3);
    outages.recovered('FR', 120_000 + 10 * 60_000);
    expect(lines.at(-1)?.msg).to.equal(
      'grid: zone FR history: Electricity Maps answers steadily again, no failure for 10 min (3 of 8 lookups failed in 12 min)',
    );
    expect(lines).to.have.length(4);
    // Forgotten: a failure now is a new outage, told as one.
    outages.failed('FR', failure, 'serving the last good history', 60 * 60_000);
    expect(lines.at(-1)?.msg).to.equal(
      'grid: zone FR history: Electricity Maps answered 503; serving the last good history',
    );
  });
});
