import { expect } from 'chai';
import { formatGrams, sig } from '../../../src/cli/summary.js';

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
});
