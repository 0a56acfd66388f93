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

  // Compared with Object.is, -0 given where 0 runs (a computed offset, `-x` of 0) was named as
  // differing: a warning about a setting that behaves the same. NaN stays equal to NaN.
  it('takes -0 and 0 as the same value, in a field and in an array, and NaN as NaN', () => {
    const running = { a: 0, b: -0, list: [0, 1], n: Number.NaN, ns: [Number.NaN] };
    const given = { a: -0, b: 0, list: [-0, 1], n: Number.NaN, ns: [Number.NaN] };
    expect(differingFields(given, running, 's')).to.deep.equal([]);
    expect(differingFields({ ...given, a: 1 }, running, 's')).to.deep.equal(['s.a']);
  });

  it('lists eight at most, then how many more', () => {
    const running = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    const given = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, -i - 1]));
    const names = differingFields(given, running, 'settings');
    expect(names).to.have.length(9);
    expect(names[7]).to.equal('settings.k7');
    expect(names[8]).to.equal('4 more fields of settings');
  });

  // Settings are the application's objects: a cycle on both sides (or one object shared by
  // both), a nesting deeper than the stack, a getter that throws, or a key that is a pasted
  // file or holds a newline overflowed the stack, threw, or named a field of a megabyte over
  // several lines (the warning lost, or no bounded line); 100,000 keys were walked one by one.
  it('ends, never throws, and names each field in one short line on hostile settings', () => {
    const cyclic = (): Record<string, unknown> => {
      const node: Record<string, unknown> = { x: 1 };
      node.self = node;
      return node;
    };
    const shared = cyclic();
    expect(differingFields({ g: cyclic() }, { g: cyclic() }, 's')).to.deep.equal([
      's.g.self.self.self',
    ]);
    expect(differingFields({ g: shared }, { g: shared }, 's')).to.deep.equal([]);
    const deep = (): Record<string, unknown> => {
      const root: Record<string, unknown> = {};
      let node = root;
      for (let i = 0; i < 20_000; i += 1) {
        node.n = {};
        node = node.n as Record<string, unknown>;
      }
      return root;
    };
    expect(differingFields(deep(), deep(), 's')).to.deep.equal(['s.n.n.n.n']);
    const throwing = {
      get g(): never {
        throw new Error('a getter that throws');
      },
    };
    expect(differingFields(throwing, { g: 1 }, 's')).to.deep.equal(['s']);
    const odd = { grid: { 'zone\nNEXT LINE': 1, ['k'.repeat(100_000)]: 2, ok: 3 } };
    expect(differingFields(odd, { grid: {} }, 's')).to.deep.equal(['s.grid', 's.grid.ok']);
    const huge = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
    expect(differingFields({ huge }, { huge: {} }, 's')).to.deep.equal(['s.huge']);
  });
});
