import { expect } from 'chai';
import { KeptRecords } from '../../src/kept-records.js';

type Series = { name: string; code: number };

/** Records of 2 numbers, their series by name then code, as SettledEarly keeps its own. */
function kept(max: number): KeptRecords<Series, string, Map<number, number>> {
  return new KeptRecords(max, 2);
}

/** Keeps one record of the series (name, code) with figures a and b, as the callers do. */
function add(
  records: KeptRecords<Series, string, Map<number, number>>,
  name: string,
  code: number,
  a: number,
  b: number,
): void {
  if (records.refused()) return;
  const byCode = KeptRecords.branch(records.index, name);
  const index = byCode.get(code) ?? records.addSeries(byCode, code, { name, code });
  const at = records.push(index);
  records.figures[at] = a;
  records.figures[at + 1] = b;
}

function seen(records: KeptRecords<Series, string, Map<number, number>>): unknown[] {
  const out: unknown[] = [];
  records.forEach((series, figures, at) => {
    out.push([series, figures[at], figures[at + 1]]);
  });
  return out;
}

describe('KeptRecords: records as numbers and the index of their series', () => {
  it('keeps one object a series, found by its key, and hands it back with each record', () => {
    const records = kept(10);
    add(records, 'a', 1, 1, 2);
    add(records, 'b', 1, 3, 4);
    add(records, 'a', 1, 5, 6);
    add(records, 'a', 2, 7, 8);
    expect(records.size).to.equal(4);
    expect(records.index.get('a')?.size, "a's codes").to.equal(2);
    const rows = seen(records) as [Series, number, number][];
    expect(rows).to.deep.equal([
      [{ name: 'a', code: 1 }, 1, 2],
      [{ name: 'b', code: 1 }, 3, 4],
      [{ name: 'a', code: 1 }, 5, 6],
      [{ name: 'a', code: 2 }, 7, 8],
    ]);
    expect(rows[2]?.[0], 'the same object for the same series').to.equal(rows[0]?.[0]);
    expect(records.seriesOf(1)).to.equal(rows[1]?.[0]);
  });

  it('makes a level of the index once: branch returns the map it made before', () => {
    const index = new Map<string, Map<number, number>>();
    const made = KeptRecords.branch(index, 'x');
    expect(KeptRecords.branch(index, 'x')).to.equal(made);
    expect([...index.keys()]).to.deep.equal(['x']);
  });

  it('keeps up to its bound past the first block it grows by, counts the rest, and clears', () => {
    const records = kept(3000);
    for (let i = 0; i < 3005; i++) add(records, `r${i % 7}`, 0, i, -i);
    expect(records.size).to.equal(3000);
    expect(records.dropped).to.equal(5);
    const rows = seen(records) as [Series, number, number][];
    expect(rows.map((r) => r[1]).reduce((a, b) => a + b, 0)).to.equal((2999 * 3000) / 2);
    expect(rows[2999]).to.deep.equal([{ name: `r${2999 % 7}`, code: 0 }, 2999, -2999]);
    records.clear();
    expect([records.size, records.dropped, records.index.size]).to.deep.equal([0, 0, 0]);
    expect(seen(records)).to.deep.equal([]);
    add(records, 'again', 3, 1, 1);
    expect(seen(records), 'the series are made anew').to.deep.equal([
      [{ name: 'again', code: 3 }, 1, 1],
    ]);
  });
});
