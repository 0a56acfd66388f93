import { expect } from 'chai';
import { spanText } from '../../src/span-text.js';

describe('spanText', () => {
  it('says a set span exactly, in the largest units it is whole in', () => {
    const said = [100, 1500, 60_000, 90_000, 3 * 3_600_000, 5400_000, 604_800_000].map(spanText);
    expect(said).to.deep.equal([
      '100 ms',
      '1.5 s',
      '1 min',
      '1 min 30 s',
      '3 h',
      '1 h 30 min',
      '168 h',
    ]);
  });

  // GRID_STALE_MAX_AGE_SECONDS=0 is a limit in seconds: "0 ms" would name a unit it has not.
  it('says no span as 0 s', () => {
    expect(spanText(0)).to.equal('0 s');
  });

  it('rounds to the µs what an option parsed in floating point', () => {
    expect(spanText(4.1 * 60_000)).to.equal('4 min 6 s');
  });
});
