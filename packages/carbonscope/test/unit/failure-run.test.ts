import { expect } from 'chai';
import { FailureRun, REASON_REPEAT_MS } from '../../src/failure-run.js';

describe('failure run: what a run of failures is worth telling', () => {
  it('tells the start, then nothing for the same reason, and the length of the run at its end', () => {
    const run = new FailureRun();
    expect(run.failed('refused', 0)).to.equal('started');
    expect(run.failed('refused', 5 * REASON_REPEAT_MS)).to.equal(undefined);
    expect(run.lastedAt(5 * REASON_REPEAT_MS)).to.equal(5 * REASON_REPEAT_MS);
    expect(run.succeeded(6 * REASON_REPEAT_MS)).to.equal(6 * REASON_REPEAT_MS);
    expect(run.succeeded(7 * REASON_REPEAT_MS), 'no run, no end').to.equal(undefined);
    expect(run.failed('refused', 8 * REASON_REPEAT_MS), 'a new run').to.equal('started');
  });

  it('with reminders, tells the same reason again once a reminder period has passed', () => {
    const run = new FailureRun({ remindMs: REASON_REPEAT_MS });
    expect(run.failed('503', 0)).to.equal('started');
    expect(run.failed('503', REASON_REPEAT_MS - 1)).to.equal(undefined);
    expect(run.failed('timeout', REASON_REPEAT_MS - 1), 'a new reason waits too').to.equal(
      undefined,
    );
    expect(run.failed('503', REASON_REPEAT_MS)).to.equal('continues');
    expect(run.failed('timeout', 2 * REASON_REPEAT_MS)).to.equal('changed');
    expect(run.failed('timeout', 3 * REASON_REPEAT_MS - 1)).to.equal(undefined);
    expect(run.failed('timeout', 3 * REASON_REPEAT_MS)).to.equal('continues');
  });
});
