import { expect } from 'chai';
import type { SettledFigures } from '../../src/otel/binding/bind-metrics.js';
import { SettledEarly } from '../../src/settled-early.js';

const TENANT = Object.freeze({ 'app.tenant': 'acme' });

/** What `record` was handed, copied: the object it gets is reused from call to call. */
function replayed(early: SettledEarly): SettledFigures[] {
  const seen: SettledFigures[] = [];
  early.replay((footprint) => seen.push({ ...footprint }));
  return seen;
}

describe("SettledEarly: what settled before register's binding", () => {
  it('replays each footprint in order, with its series and figures', () => {
    const early = new SettledEarly(10);
    const given: SettledFigures[] = [
      { operation: 'row', estimated: true, joules: 1, grams: 2, embodiedGrams: 3 },
      {
        operation: '/a',
        estimated: false,
        attributes: TENANT,
        joules: 4,
        grams: 5,
        embodiedGrams: 6,
      },
      { operation: 'row', estimated: false, joules: 7, grams: 8, embodiedGrams: 9 },
      { operation: 'row', estimated: true, joules: 10, grams: 11, embodiedGrams: 12 },
    ];
    for (const f of given) early.add(f);
    expect(replayed(early)).to.deep.equal(given);
    expect(replayed(early), 'kept once').to.deep.equal([]);
  });

  it('keeps up to its bound, past the first block it grows by, and counts the rest', () => {
    const early = new SettledEarly(3000);
    for (let i = 0; i < 3005; i++) {
      early.add({ operation: 'row', estimated: true, joules: i, grams: 0, embodiedGrams: 0 });
    }
    expect(early.dropped).to.equal(5);
    const seen = replayed(early);
    expect(seen).to.have.length(3000);
    expect(seen.map((f) => f.joules).reduce((a, b) => a + b, 0)).to.equal((2999 * 3000) / 2);
  });
});
