import { expect } from 'chai';
import { formatDuration, formatEnergy, formatGrams, sig } from '../../../src/cli/summary.js';

describe('summary number formatting', () => {
  it('gives three significant digits from 1e21 on too, where toFixed writes every digit', () => {
    // toFixed turns to exponent notation from 1e21 on, all 17 digits: `1.2345678901234568e+21`.
    expect(sig(1.2345678901234568e21)).to.equal('1.23e+21');
    expect(sig(-3.3e25)).to.equal('-3.30e+25');
    expect(formatGrams(4.5678e24)).to.equal('4.57e+21 kg');
    // Below it, whole numbers stay whole, small ones keep three digits.
    expect(sig(123456.7)).to.equal('123457');
    expect(sig(0.0123456)).to.equal('0.0123');
    expect(sig(0.00012345)).to.equal('1.23e-4');
  });

  // A monitor stopped at 1 min 59.6 s read "whole machine for 1 min 60 s".
  it('writes a duration with no 60 in its seconds or minutes', () => {
    expect(formatDuration(3)).to.equal('3.00 s');
    expect(formatDuration(59.996)).to.equal('1 min 0 s');
    expect(formatDuration(119.6)).to.equal('2 min 0 s');
    expect(formatDuration(125.4)).to.equal('2 min 5 s');
    expect(formatDuration(3599.6)).to.equal('1 h 0 min');
    expect(formatDuration(7199.9)).to.equal('2 h 0 min');
  });

  // 0.99996 g read "1000 mg", 3,599,999 J "1000 Wh": three digits rounded up into the next unit.
  it('moves to the larger unit where three digits round up to 1000 of the smaller', () => {
    expect(formatGrams(0.99996)).to.equal('1 g');
    expect(formatGrams(0.9994)).to.equal('999 mg');
    expect(formatEnergy(3_599_999)).to.equal('1 kWh');
    expect(formatEnergy(3599.9)).to.equal('3600 J');
    expect(formatGrams(999.96)).to.equal('1 kg');
  });
});
