import { expect } from 'chai';
import { aheadOfTests } from '../helpers/ahead-of-tests.js';

/** A job that records its start and ends when the test says. */
function controlled(name: string, startedOrder: string[]) {
  let end: (value: string) => void = () => undefined;
  let fail: (reason: Error) => void = () => undefined;
  const job = () => {
    startedOrder.push(name);
    return new Promise<string>((resolve, reject) => {
      end = resolve;
      fail = reject;
    });
  };
  return { job, end: () => end(name), fail: (reason: Error) => fail(reason) };
}

/** Lets the jobs' settlements and the starts they free run. */
const settle = () => new Promise((r) => setImmediate(r));

// Mocha runs a describe's own tests before those of the describes inside it: a job started in
// the order the file adds them was not the next one its test awaited. register-exit's first two
// tests (its describe's own) waited for the 22 processes added before theirs, 3 at a time: 37 s
// of their 60 under load here, past 60 in CI.
describe('test helper aheadOfTests', () => {
  it('starts the jobs a few at a time, in the order added, and resolves each for its test', async () => {
    const order: string[] = [];
    const ahead = aheadOfTests(2);
    const jobs = ['a', 'b', 'c'].map((name) => controlled(name, order));
    const awaited = jobs.map((j) => ahead.add(j.job));
    ahead.startAll();
    await settle();
    expect(order).to.deep.equal(['a', 'b']);
    jobs[1]?.end();
    await settle();
    expect(order).to.deep.equal(['a', 'b', 'c']);
    jobs[0]?.end();
    jobs[2]?.end();
    expect(await Promise.all(awaited.map((a) => a()))).to.deep.equal(['a', 'b', 'c']);
  });

  it('starts a job its test awaits while it waits its turn at the next free place, ahead of those added before it', async () => {
    const order: string[] = [];
    const ahead = aheadOfTests(2);
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((name) => controlled(name, order));
    const awaited = jobs.map((j) => ahead.add(j.job));
    ahead.startAll();
    const last = awaited[4]?.();
    jobs[0]?.end();
    await settle();
    expect(order).to.deep.equal(['a', 'b', 'e']);
    jobs[4]?.end();
    expect(await last).to.equal('e');
    await settle();
    expect(order).to.deep.equal(['a', 'b', 'e', 'c']);
    jobs[1]?.end();
    await settle();
    expect(order).to.deep.equal(['a', 'b', 'e', 'c', 'd']);
    jobs[2]?.end();
    jobs[3]?.end();
    await ahead.settled();
  });

  it("gives a job's failure to its test alone: the others run, settled() resolves", async () => {
    const order: string[] = [];
    const ahead = aheadOfTests(1);
    const jobs = ['a', 'b'].map((name) => controlled(name, order));
    const awaited = jobs.map((j) => ahead.add(j.job));
    ahead.startAll();
    jobs[0]?.fail(new Error('a failed'));
    await settle();
    jobs[1]?.end();
    await ahead.settled();
    const failed = await awaited[0]?.().catch((e: Error) => e);
    expect((failed as Error).message).to.equal('a failed');
    expect(await awaited[1]?.()).to.equal('b');
  });

  it('says so where a test awaits its job before the hook that starts them ran', () => {
    const ahead = aheadOfTests(1);
    const awaited = ahead.add(async () => 'a');
    expect(() => awaited()).to.throw('the jobs start in the before hook');
  });
});
