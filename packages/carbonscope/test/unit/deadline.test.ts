import { expect } from 'chai';
import { DeadlineError, settlesWithin, withDeadline } from '../../src/deadline.js';

describe('deadline', () => {
  it('withDeadline rejects at the deadline even when the work ignores its signal, and aborts it', async () => {
    let aborted = false;
    const started = performance.now();
    try {
      await withDeadline(50, (signal) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return new Promise((resolve) => setTimeout(resolve, 500));
      });
      expect.fail('expected a DeadlineError');
    } catch (err) {
      expect(err).to.be.instanceOf(DeadlineError);
    }
    expect(performance.now() - started).to.be.below(300);
    expect(aborted).to.equal(true);
  });

  it('withDeadline passes on the result or the error of work that ends in time', async () => {
    expect(await withDeadline(1000, async () => 7)).to.equal(7);
    const boom = new Error('boom');
    try {
      await withDeadline(1000, () => Promise.reject(boom));
      expect.fail('expected the work error');
    } catch (err) {
      expect(err).to.equal(boom);
    }
  });

  it('settlesWithin says whether a promise settled in time and never rejects', async () => {
    expect(await settlesWithin(Promise.resolve(1), 100)).to.equal(true);
    expect(await settlesWithin(Promise.reject(new Error('x')), 100)).to.equal(true);
    expect(await settlesWithin(new Promise(() => undefined), 30)).to.equal(false);
  });
});
