import { expect } from 'chai';
import { IntensityMix } from '../../../src/cli/intensity-mix.js';
import type { EnergySample } from '../../../src/energy/index.js';
import type { IntensityReading } from '../../../src/grid/index.js';

/** The reading of `source` at `carbonIntensity`, as the grid gives it. */
function reading(
  source: IntensityReading['source'],
  carbonIntensity: number,
  flags: { estimated?: boolean; stale?: boolean } = {},
): IntensityReading {
  return {
    zone: 'DE',
    carbonIntensity,
    unit: 'gCO2e/kWh',
    source,
    isEstimated: flags.estimated ?? false,
    stale: flags.stale ?? false,
    ageSeconds: 0,
    datetime: null,
    fetchedAt: '2024-01-01T00:00:00.000Z',
  };
}

/** One interval's energy, host and process, priced at `intensity` (null: unpriced). */
function sample(
  hostJoules: number,
  processJoules: number,
  intensity: IntensityReading | null,
): EnergySample {
  return { hostJoules, processJoules, intensity } as EnergySample;
}

describe('IntensityMix: which grid sources priced the energy', () => {
  it('shares each scope by its own energy, most first, its intensity averaged over it', () => {
    const mix = new IntensityMix();
    const average = reading('annual-average', 342, { estimated: true });
    mix.add(sample(10, 1, average));
    mix.add(sample(10, 1, average));
    mix.add(sample(10, 6, reading('electricity-maps', 300)));
    mix.add(sample(10, 6, reading('electricity-maps', 330)));
    const process = mix.of('process');
    expect(process.map((s) => [s.source, s.joules, s.share])).to.deep.equal([
      ['electricity-maps', 12, 12 / 14],
      ['annual-average', 2, 2 / 14],
    ]);
    expect(process[0]?.carbonIntensity).to.equal(315);
    expect(process[1]).to.include({ estimated: true, stale: false, carbonIntensity: 342 });
    // The host's energy went half and half.
    expect(mix.of('host').map((s) => s.share)).to.deep.equal([0.5, 0.5]);
  });

  it('gives a source that priced at one intensity that intensity exactly, whatever its energies', () => {
    // Σ J × 322 ÷ Σ J came out 321.99999999999994 for such energies (CI, stop 55).
    const mix = new IntensityMix();
    const live = reading('electricity-maps', 322);
    for (const joules of [0.1, 0.2, 0.7, 5.87, 0.3, 1.1]) mix.add(sample(joules, joules, live));
    mix.add(sample(2.99, 2.99, reading('annual-average', 342, { estimated: true })));
    for (const scope of ['host', 'process'] as const) {
      expect(mix.of(scope).map((s) => s.carbonIntensity)).to.deep.equal([322, 342]);
    }
  });

  it('tells a stale value apart, leaves unpriced energy out, and shares nothing of nothing', () => {
    const mix = new IntensityMix();
    expect(mix.of('process')).to.deep.equal([]);
    mix.add(sample(5, 5, null));
    expect(mix.of('host')).to.deep.equal([]);
    mix.add(sample(3, 0, reading('electricity-maps', 300)));
    mix.add(sample(1, 0, reading('electricity-maps', 300, { stale: true })));
    expect(mix.of('host').map((s) => [s.stale, s.share])).to.deep.equal([
      [false, 0.75],
      [true, 0.25],
    ]);
    // No energy of the process was priced: no source priced it.
    expect(mix.of('process')).to.deep.equal([]);
  });
});
