import { expect } from 'chai';
import { callEach, Listeners } from '../../src/listeners.js';

describe('listeners: calling them allocates nothing', () => {
  it('callEach walks the listeners by index: it asks the array for no iterator', () => {
    const calls: number[] = [];
    const listeners = new Listeners<(n: number) => void>();
    listeners.add((n) => calls.push(n));
    listeners.add((n) => calls.push(n * 10));
    const all = listeners.all as ((n: number) => void)[];
    let iterators = 0;
    const values = all[Symbol.iterator];
    Object.defineProperty(all, Symbol.iterator, {
      value() {
        iterators++;
        return values.call(this);
      },
    });
    const failed: unknown[] = [];
    for (let i = 1; i <= 3; i++) callEach(all, i, (err) => failed.push(err));
    expect(calls).to.deep.equal([1, 10, 2, 20, 3, 30]);
    expect(iterators).to.equal(0);
    expect(failed).to.deep.equal([]);
  });

  it('a throw and a rejection still go to `failed`, and the next listener is called', async () => {
    const calls: string[] = [];
    const failed: unknown[] = [];
    const boom = new Error('boom');
    const late = new Error('late');
    callEach<string>(
      [
        () => {
          throw boom;
        },
        () => Promise.reject(late),
        (s) => calls.push(s),
      ],
      'x',
      (err) => failed.push(err),
    );
    await new Promise((r) => setImmediate(r));
    expect(calls).to.deep.equal(['x']);
    expect(failed).to.deep.equal([boom, late]);
  });
});
