import { expect } from 'chai';
import { differingFields } from '../../../src/otel/differing-fields.js';

describe('differingFields', () => {
  it('names each differing field by its path, arrays whole, undefined and absent alike', () => {
    const running = { a: 1, g: { z: 'DE', list: ['GET'], opt: undefined }, n: null };
    expect(
      differingFields({ a: 1, g: { z: 'DE', list: ['GET'] }, n: null }, running, 's'),
    ).to.deep.equal([]);
    expect(
      differingFields({ a: 2, g: { z: 'FR', list: ['GET', 'PUT'], opt: 1 }, n: {} }, running, 's'),
    ).to.deep.equal(['s.a', 's.g.z', 's.g.list', 's.g.opt', 's.n']);
  });

  it('lists eight at most, then how many more', () => {
    const running = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    const given = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, -i - 1]));
    const names = differingFields(given, running, 'settings');
    expect(names).to.have.length(9);
    expect(names[7]).to.equal('settings.k7');
    expect(names[8]).to.equal('4 more fields of settings');
  });
});
