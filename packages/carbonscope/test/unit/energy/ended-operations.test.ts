import { expect } from 'chai';
import { EndedOperations } from '../../../src/energy/ended-operations.js';
import type { TrackedOperation } from '../../../src/energy/tracked-operation.js';

/** The fields push() copies, different for every i. */
function ended(i: number): TrackedOperation {
  return {
    name: `op${i}`,
    kind: i % 2 ? 'request' : 'operation',
    status: 200 + (i % 3),
    http: { method: 'GET', scheme: 'http' },
    context: undefined,
    startMs: i,
    endMs: i + 0.5,
    shareFrom: i,
    shareEnd: i + 0.25,
    accrued: { joules: i / 10, grams: i / 100, embodiedGrams: i / 1000, estimated: i % 5 === 0 },
  } as unknown as TrackedOperation;
}

describe('ended operations (settlement arrays)', () => {
  it('keeps every operation its own fields across growth, and settles each in place', () => {
    const list = new EndedOperations();
    const n = 5000; // past the initial 1,024 slots, twice grown
    for (let i = 0; i < n; i++) expect(list.push(ended(i), i === 4321, i === 1234)).to.equal(i);
    for (const i of [0, 1023, 1024, 1234, 2047, 4321, n - 1]) {
      const seen = [list.name(i), list.kind(i), list.status(i), list.startMs(i), list.endMs(i)];
      expect(seen).to.deep.equal([
        `op${i}`,
        i % 2 ? 'request' : 'operation',
        200 + (i % 3),
        i,
        i + 0.5,
      ]);
      expect(list.share(i)).to.equal(0.25);
      expect([list.joules(i), list.estimated(i), list.weight(i)]).to.deep.equal([
        i / 10,
        i % 5 === 0,
        0,
      ]);
      // Held, or marked for its settled figure without being held.
      expect(list.op(i) !== undefined).to.equal(i === 4321);
      expect(list.kept(i)).to.equal(i === 1234);
    }
    list.hold(1234, ended(1234));
    expect([list.op(1234)?.name, list.kept(1234)]).to.deep.equal(['op1234', false]);
    list.setWeight(2047, 3);
    list.settle(2047, 1, 2, 3, true);
    expect([
      list.weight(2047),
      list.joules(2047),
      list.grams(2047),
      list.embodied(2047),
    ]).to.deep.equal([3, 204.7 + 1, 20.47 + 2, 2.047 + 3]);
    expect([list.estimated(2047), list.weight(2048), list.joules(2048)]).to.deep.equal([
      true,
      0,
      204.8,
    ]);
  });

  it('drops its references when cleared and starts again at 0', () => {
    const list = new EndedOperations();
    list.push(ended(1), true, false);
    list.push(ended(2), false, true);
    list.clear();
    expect(list.length).to.equal(0);
    expect([list.op(0), list.http(0), list.name(0)]).to.deep.equal([
      undefined,
      undefined,
      undefined,
    ]);
    expect(list.push(ended(7), false, false)).to.equal(0);
    expect([list.name(0), list.kept(0), list.kept(1)]).to.deep.equal(['op7', false, false]);
  });
});
