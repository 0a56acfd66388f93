import { once } from 'node:events';
import { expect } from 'chai';
import { DeadlineError, settlesWithin, withDeadline } from '../../src/deadline.js';
import { blockFor, loopbackPair } from '../helpers/held-loop.js';

describe('deadline', () => {
  it('withDeadline rejects at the deadline even when the work ignores its signal, and aborts it', async () => {
    let aborted = false;
    try {
      // Work that never ends: only the deadline can settle the call.
      await withDeadline(50, (signal) => {
        signal.addEventListener('abort', () => {
          aborted = true;
        });
        return new Promise(() => {});
      });
      expect.fail('expected a DeadlineError');
    } catch (err) {
      expect(err).to.be.instanceOf(DeadlineError);
    }
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

  it("withDeadline gives up when the caller's signal aborts, with its reason, and aborts the work", async () => {
    const caller = new AbortController();
    const gone = new Error('the client went away');
    let aborted: unknown;
    // Work that never ends, under a deadline past mocha's timeout: only the caller's abort ends it.
    const running = withDeadline(
      600_000,
      (signal) => {
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
        });
        return new Promise(() => {});
      },
      caller.signal,
    ).catch((err: unknown) => err);
    setTimeout(() => caller.abort(gone), 20);
    expect(await running).to.equal(gone);
    expect(aborted).to.equal(gone);
  });

  it("withDeadline does not start what the caller's signal already cancelled", async () => {
    const caller = new AbortController();
    caller.abort(new Error('gone'));
    let started = false;
    const err = await withDeadline(
      5000,
      async () => {
        started = true;
      },
      caller.signal,
    ).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('gone');
    expect(started).to.equal(false);
  });

  it('settlesWithin says whether a promise settled in time and never rejects', async () => {
    expect(await settlesWithin(Promise.resolve(1), 100)).to.equal(true);
    expect(await settlesWithin(Promise.reject(new Error('x')), 100)).to.equal(true);
    expect(await settlesWithin(new Promise(() => undefined), 30)).to.equal(false);
  });

  // setTimeout waits at most 2^31 - 1 ms (24.8 days): past it Node warns (TimeoutOverflowWarning)
  // and waits 1 ms, so a deadline of a month, or Infinity for none, expired at once.
  it("withDeadline and settlesWithin wait past setTimeout's 2^31 - 1 ms and for Infinity, not 1 ms", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const soon = () => new Promise<number>((resolve) => setTimeout(() => resolve(7), 20));
      for (const ms of [2 ** 31, 30 * 86_400_000, Number.POSITIVE_INFINITY]) {
        expect(await withDeadline(ms, soon), `withDeadline(${ms})`).to.equal(7);
        expect(await settlesWithin(soon(), ms), `settlesWithin(${ms})`).to.equal(true);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  // Node 23 and later warn (TimeoutNegativeWarning, TimeoutNaNWarning) on a negative or NaN
  // delay before waiting 1 ms: a deadline already past (the last push's, computed from a start
  // long ago) printed a warning on the application's stderr at its exit.
  it('withDeadline and settlesWithin take a deadline already past or NaN at once, without a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const never = () => new Promise<never>(() => undefined);
      for (const ms of [-1, -0.829, Number.NEGATIVE_INFINITY, Number.NaN]) {
        const late = await withDeadline(ms, never).catch((err: unknown) => err);
        expect(late, `withDeadline(${ms})`).to.be.instanceOf(DeadlineError);
        expect(await settlesWithin(never(), ms), `settlesWithin(${ms})`).to.equal(false);
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).to.deep.equal([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  // Node runs the timers that expired while the process was stopped (SIGSTOP, a debugger) or
  // its loop blocked before it reads its sockets: the deadline won over the answer waiting there.
  it('withDeadline and settlesWithin take an answer that came while the loop was held past them', async () => {
    const { client, peer, close } = await loopbackPair();
    try {
      for (const wait of [
        (answer: Promise<unknown>) => withDeadline(50, () => answer),
        (answer: Promise<unknown>) => settlesWithin(answer, 50),
      ]) {
        const answered = once(client, 'data').then(() => true);
        const outcome = wait(answered);
        peer.write('answer');
        blockFor(150);
        expect(await outcome).to.equal(true);
      }
    } finally {
      close();
    }
  });
});
