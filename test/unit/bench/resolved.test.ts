import { expect } from 'chai';
import { addedWithin, ratioWithin } from '../../bench/resolved.js';

describe('bench verdicts beside a noise floor', () => {
  it('does not pass a figure inside a noise floor larger than the budget (run H: +1.4 µs beside −39.2)', () => {
    expect(addedWithin(1.4, 3, -39.2)).to.deep.equal({ ok: false, resolved: false });
    expect(ratioWithin(1.033, 0.95, 1.318)).to.deep.equal({ ok: false, resolved: false });
  });

  it('does not pass a figure far below zero: that is noise too (quick run: −35.3 µs added)', () => {
    expect(addedWithin(-35.3, 3, -0.4)).to.deep.equal({ ok: false, resolved: false });
    expect(ratioWithin(1.2, 0.95, 1.01)).to.deep.equal({ ok: false, resolved: false });
    expect(addedWithin(-2.9, 3, -0.4)).to.deep.equal({ ok: true, resolved: true });
  });

  it('passes a figure within the budget when the floor is too', () => {
    expect(addedWithin(1.4, 3, -2.5)).to.deep.equal({ ok: true, resolved: true });
    expect(ratioWithin(0.97, 0.95, 1.04)).to.deep.equal({ ok: true, resolved: true });
  });

  it('fails a resolved figure over the budget', () => {
    expect(addedWithin(5, 3, 1)).to.deep.equal({ ok: false, resolved: true });
    expect(ratioWithin(0.9, 0.95, 0.99)).to.deep.equal({ ok: false, resolved: true });
  });

  it('checks the budget alone where no floor was measured', () => {
    expect(addedWithin(2, 3)).to.deep.equal({ ok: true, resolved: true });
    expect(ratioWithin(0.94, 0.95)).to.deep.equal({ ok: false, resolved: true });
  });
});
