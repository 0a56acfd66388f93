import { expect } from 'chai';
import { RingHistory } from '../../../src/dashboard/history.js';
import {
  HISTORY_COLUMNS,
  historyCapacity,
  historyMemoryBytes,
} from '../../../src/dashboard/index.js';

function filled(capacity: number, rows: number, maxColumns = 2): RingHistory {
  const h = new RingHistory({ capacity, maxColumns });
  for (let i = 1; i <= rows; i++) {
    h.append(i * 1000);
    h.set('a', i);
    h.set('b', -i);
  }
  return h;
}

describe('dashboard history (ring buffer)', () => {
  // The first answer of /dashboard/data was every row held: 72,000 at a 50 ms sample interval,
  // 20-40 MB of JSON for a chart a few hundred pixels wide.
  it('sums the rows up in at most `maxRows`: means, the last value of a running total, the newest row as it is', () => {
    const h = filled(100, 103);
    const slice = h.downsampled(4, new Set(['b']));
    // Rows 4..103 held: 99 older ones in 3 runs of 33, then row 103 alone.
    expect(slice).to.deep.include({ seq: 103, from: 4, truncated: false });
    expect(slice.times).to.deep.equal([36_000, 69_000, 102_000, 103_000]);
    expect(slice.columns.a).to.deep.equal([20, 53, 86, 103]);
    expect(slice.columns.b).to.deep.equal([-36, -69, -102, -103]);
  });

  it('leaves a column empty in a run where it has no value, and sends fewer rows as they are', () => {
    const h = new RingHistory({ capacity: 10, maxColumns: 2 });
    for (let i = 1; i <= 9; i++) {
      h.append(i);
      if (i > 4) h.set('late', i);
      else h.set('early', i);
    }
    const slice = h.downsampled(3, new Set());
    expect(slice.times).to.deep.equal([4, 8, 9]);
    expect(slice.columns.early).to.deep.equal([2.5, null, null]);
    expect(slice.columns.late).to.deep.equal([null, 6.5, 9]);
    expect(filled(10, 3).downsampled(3, new Set())).to.deep.equal(filled(10, 3).since(0));
  });

  it('returns every row in order before it wraps', () => {
    const slice = filled(5, 3).since(0);
    expect(slice).to.deep.include({ seq: 3, from: 1, truncated: false });
    expect(slice.times).to.deep.equal([1000, 2000, 3000]);
    expect(slice.columns).to.deep.equal({ a: [1, 2, 3], b: [-1, -2, -3] });
  });

  it('keeps only the newest `capacity` rows once it wraps, oldest first', () => {
    const h = filled(4, 10);
    expect(h.size).to.equal(4);
    expect(h.oldestSeq).to.equal(7);
    const slice = h.since(0);
    expect(slice.times).to.deep.equal([7000, 8000, 9000, 10_000]);
    expect(slice.columns.a).to.deep.equal([7, 8, 9, 10]);
    expect(h.latest('a')).to.equal(10);
    expect(h.valueAt(6, 'a')).to.equal(undefined, 'row 6 was overwritten');
    expect(h.timeAt(7)).to.equal(7000);
  });

  it('sends only the rows after the cursor', () => {
    const h = filled(4, 10);
    const slice = h.since(8);
    expect(slice).to.deep.include({ seq: 10, from: 9, truncated: false });
    expect(slice.times).to.deep.equal([9000, 10_000]);
    expect(h.since(10).times).to.deep.equal([]);
  });

  it('says so when the cursor points at rows already overwritten', () => {
    const slice = filled(4, 10).since(3);
    expect(slice.truncated).to.equal(true);
    expect(slice.from).to.equal(7);
    expect(slice.columns.a).to.deep.equal([7, 8, 9, 10]);
  });

  it('treats a cursor from the future (a restarted service) as a fresh start', () => {
    const slice = filled(4, 2).since(99);
    expect(slice.from).to.equal(1);
    expect(slice.times).to.have.length(2);
  });

  it('gives a column added later gaps (null) for the rows before it', () => {
    const h = new RingHistory({ capacity: 4, maxColumns: 3 });
    h.append(1);
    h.set('a', 1);
    h.append(2);
    h.set('a', 2);
    h.set('late', 20);
    h.append(3);
    h.set('late', 30);
    expect(h.since(0).columns).to.deep.equal({ a: [1, 2, null], late: [null, 20, 30] });
  });

  it('clears a reused slot: a value from the overwritten row never leaks into the new one', () => {
    const h = new RingHistory({ capacity: 2, maxColumns: 2 });
    h.append(1);
    h.set('a', 1);
    h.set('b', 1);
    h.append(2);
    h.set('a', 2);
    h.append(3);
    h.set('a', 3); // reuses row 1's slot, without b
    expect(h.since(0).columns.b).to.deep.equal([null, null]);
  });

  it('refuses columns beyond its cap instead of growing', () => {
    const h = new RingHistory({ capacity: 2, maxColumns: 2 });
    h.append(1);
    expect(h.set('a', 1)).to.equal(true);
    expect(h.set('b', 1)).to.equal(true);
    expect(h.set('c', 1)).to.equal(false);
    expect(h.columnKeys).to.deep.equal(['a', 'b']);
    expect(h.since(0).columns).to.not.have.property('c');
  });

  it('finds the newest row at or before a time', () => {
    const h = filled(4, 10);
    expect(h.seqAtOrBefore(8500)).to.equal(8);
    expect(h.seqAtOrBefore(10_000)).to.equal(10);
    expect(h.seqAtOrBefore(6999)).to.equal(undefined, 'older rows are gone');
  });

  it('rejects a shape that cannot hold anything', () => {
    expect(() => new RingHistory({ capacity: 0, maxColumns: 1 })).to.throw(/capacity/);
    expect(() => new RingHistory({ capacity: 1, maxColumns: 1.5 })).to.throw(/columns/);
  });

  describe('memory cap', () => {
    it('is computable from the span and interval: 60 min at 1 s', () => {
      expect(historyCapacity(60, 1000)).to.equal(3600);
      expect(historyMemoryBytes(60, 1000)).to.equal(3600 * (1 + HISTORY_COLUMNS) * 8);
      expect(historyCapacity(60, 1500)).to.equal(2400);
      expect(historyCapacity(1, 60_000)).to.equal(1);
    });

    it('stays within its cap after many samples (typed arrays sized once, never grown)', () => {
      const capacity = historyCapacity(60, 1000);
      const cap = RingHistory.bytesFor(capacity, HISTORY_COLUMNS);
      const before = process.memoryUsage().arrayBuffers;
      const h = new RingHistory({ capacity, maxColumns: HISTORY_COLUMNS });
      const keys = Array.from({ length: HISTORY_COLUMNS + 10 }, (_, i) => `series-${i}`);
      for (let i = 1; i <= 50_000; i++) {
        h.append(i * 1000);
        for (const key of keys) h.set(key, i);
      }
      expect(h.memoryBytes).to.equal(cap);
      expect(h.size).to.equal(capacity);
      expect(h.columnKeys).to.have.length(HISTORY_COLUMNS);
      // The process's ArrayBuffer memory grew by the cap (plus allocator slack), not by samples.
      const grown = process.memoryUsage().arrayBuffers - before;
      expect(grown).to.be.at.most(cap + 256 * 1024);
      const slice = h.since(0);
      expect(slice.times).to.have.length(capacity);
      expect(slice.times[0]).to.equal((50_000 - capacity + 1) * 1000);
    });
  });
});
