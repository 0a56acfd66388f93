import { expect } from 'chai';
import { AttributeCache, BoundedLabelSet } from '../../../src/labels/index.js';
import { createTestMetrics } from '../../helpers/metrics.js';

describe('labels: bounded label set', () => {
  it('admits the first `capacity` distinct values for good, then answers the overflow value', () => {
    const set = new BoundedLabelSet({ capacity: 3, maxLength: 10 });
    expect(['a', 'b', 'a', 'c'].map((v) => set.label(v))).to.deep.equal(['a', 'b', 'a', 'c']);
    expect(set.label('d')).to.equal('other');
    // Admitted values are never evicted: the SDK would keep their series anyway.
    expect(set.label('a')).to.equal('a');
    expect([...set.values()]).to.deep.equal(['a', 'b', 'c']);
  });

  it('answers the overflow value for values over the length limit, without admitting them', () => {
    const set = new BoundedLabelSet({ capacity: 3, maxLength: 4, overflow: 'too-many' });
    expect(set.label('12345')).to.equal('too-many');
    expect(set.label('1234')).to.equal('1234');
    expect(set.size).to.equal(1);
  });

  it('always admits pinned values, outside the capacity', () => {
    const set = new BoundedLabelSet({ capacity: 1, maxLength: 10, pinned: ['DE'] });
    expect(set.label('FR')).to.equal('FR');
    expect(set.label('DE')).to.equal('DE');
    expect(set.label('GB')).to.equal('other');
    expect(set.isAdmitted('DE')).to.equal(true);
    expect(set.isAdmitted('GB')).to.equal(false);
  });

  it('refuses a capacity or length that is not a positive integer', () => {
    expect(() => new BoundedLabelSet({ capacity: 0, maxLength: 1 })).to.throw(RangeError);
    expect(() => new BoundedLabelSet({ capacity: 1, maxLength: 1.5 })).to.throw(RangeError);
  });

  it('makes one attributes object per label and reuses it', () => {
    const set = new BoundedLabelSet({ capacity: 2, maxLength: 10 });
    const cache = new AttributeCache([set], (model) => ({ model }));
    const first = cache.of('gpt');
    expect(cache.of('gpt')).to.equal(first);
    expect(cache.of('x')).to.deep.equal({ model: 'x' });
    expect(cache.of('y')).to.deep.equal({ model: 'other' });
    expect(cache.of('z')).to.equal(cache.of('y'));
  });

  it('makes one object per pair of two sets, each bounded on its own', () => {
    const cache = new AttributeCache(
      [
        new BoundedLabelSet({ capacity: 1, maxLength: 10 }),
        new BoundedLabelSet({ capacity: 2, maxLength: 10 }),
      ],
      (provider, model) => ({ provider, model }),
    );
    expect(cache.of('p', 'a')).to.equal(cache.of('p', 'a'));
    expect(cache.of('q', 'b')).to.deep.equal({ provider: 'other', model: 'b' });
    expect(cache.of('r', 'c')).to.deep.equal({ provider: 'other', model: 'other' });
  });

  it('keeps a counter at capacity + 1 series in the real SDK, however many values arrive', async () => {
    const metrics = createTestMetrics();
    try {
      const counter = metrics.meter.createCounter('walked');
      const cache = new AttributeCache(
        [new BoundedLabelSet({ capacity: 8, maxLength: 64 })],
        (name) => ({
          name,
        }),
      );
      for (let i = 0; i < 2000; i++) counter.add(1, cache.of(`value-${i}-${'x'.repeat(i % 50)}`));
      const series = (await metrics.scrape()).split('\n').filter((l) => l.startsWith('walked'));
      expect(series).to.have.length(9);
      expect(await metrics.value('walked_total', { name: 'other' })).to.equal(1992);
    } finally {
      await metrics.shutdown();
    }
  });
});

describe('labels: bounded label set, refusals told', () => {
  it('tells the first value refused for want of room, and the first too long, once each', () => {
    const told: Array<[string, string]> = [];
    const set = new BoundedLabelSet({
      capacity: 1,
      maxLength: 3,
      onRefused: (value, reason) => told.push([value, reason]),
    });
    for (const v of ['a', 'b', 'c', 'long', 'longer', 'a', 'b']) set.label(v);
    expect(told).to.deep.equal([
      ['b', 'capacity'],
      ['long', 'length'],
    ]);
  });
});
