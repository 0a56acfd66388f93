import { expect } from 'chai';
import { FailureRun, FLAP_WINDOW_MS, REASON_REPEAT_MS, tallyText } from '../../src/failure-run.js';

describe('failure run: what a run of failures is worth telling', () => {
  it('tells the start, then nothing for the same reason, and the length of the run at its end', () => {
    const run = new FailureRun();
    expect(run.failed('refused', 0)).to.equal('started');
    expect(run.failed('refused', 5 * REASON_REPEAT_MS)).to.equal(undefined);
    expect(run.lastedAt(5 * REASON_REPEAT_MS)).to.equal(5 * REASON_REPEAT_MS);
    // Which end it is (a run's, or a flap's) is news too: the length is in the tally.
    expect(run.succeeded(6 * REASON_REPEAT_MS)).to.equal('recovered');
    expect(run.tally.lastedMs).to.equal(6 * REASON_REPEAT_MS);
    expect(run.succeeded(7 * REASON_REPEAT_MS), 'no run, no end').to.equal(undefined);
    expect(run.settled, 'a window with no failure').to.equal(true);
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

  it('failures in a row are one run however far apart (an export interval past the window)', () => {
    const run = new FailureRun();
    expect(run.failed('refused', 0)).to.equal('started');
    for (let t = 15 * 60_000; t < 3_600_000; t += 15 * 60_000) {
      expect(run.failed('refused', t)).to.equal(undefined);
    }
  });

  it('says whether the last attempt failed: an outage in progress, flapping or not', () => {
    const run = new FailureRun();
    expect(run.lastFailed, 'nothing failed yet').to.equal(false);
    run.failed('refused', 0);
    expect(run.lastFailed).to.equal(true);
    run.succeeded(1000);
    expect(run.lastFailed, 'recovered').to.equal(false);
    run.failed('refused', 2000);
    expect(run.lastFailed, 'flapping, this attempt failed').to.equal(true);
    run.succeeded(3000);
    expect(run.failing, 'still flapping').to.equal(true);
    expect(run.lastFailed, 'flapping, this attempt got through').to.equal(false);
  });
});

/** `run` fed an hour of outcomes `every` ms apart, failing where `fails(i, t)`: what it told. */
function anHour(
  run: FailureRun,
  every: number,
  fails: (i: number, t: number) => boolean,
): string[] {
  const told: string[] = [];
  for (let i = 0, t = 0; t < 3_600_000; i++, t += every) {
    const news = fails(i, t) ? run.failed('503', t) : run.succeeded(t);
    if (news === 'flapping') told.push(`${t / 1000} s: flapping, ${tallyText(run.tally, 'x')}`);
    else if (news !== undefined) told.push(`${t / 1000} s: ${news}`);
  }
  return told;
}

describe('failure run: a flapping upstream', () => {
  it('an hour of every other push failing, 5 s apart, is a handful of lines, not hundreds', () => {
    const told = anHour(new FailureRun(), 5000, (i) => i % 2 === 0);
    // One pair per two pushes was 720 lines. The recovery at 5 s was told before it flapped.
    expect(told).to.deep.equal([
      '0 s: started',
      '5 s: recovered',
      '10 s: flapping, failed 2 of the last 3 x in 10 s',
      '610 s: flapping, failed 60 of the last 120 x in 10 min',
      '1210 s: flapping, failed 60 of the last 120 x in 10 min',
      '1810 s: flapping, failed 60 of the last 120 x in 10 min',
      '2410 s: flapping, failed 60 of the last 120 x in 10 min',
      '3010 s: flapping, failed 60 of the last 120 x in 10 min',
    ]);
  });

  it('the same with reminders (a grid zone), and with one failure in three', () => {
    expect(
      anHour(new FailureRun({ remindMs: REASON_REPEAT_MS }), 5000, (i) => i % 2 === 0),
    ).to.have.length(8);
    expect(anHour(new FailureRun(), 5000, (i) => i % 3 === 0)).to.have.length(8);
  });

  it('tells the end of a flap once no failure came for a window, with the whole spell', () => {
    const run = new FailureRun();
    const told = anHour(run, 5000, (i, t) => t < 1_800_000 && i % 2 === 0);
    // The last failure at 1790 s; steady 10 min later, not at the next success.
    expect(told.slice(-2)).to.deep.equal([
      '1210 s: flapping, failed 60 of the last 120 x in 10 min',
      `${(1_790_000 + FLAP_WINDOW_MS) / 1000} s: steady`,
    ]);
    expect(run.settled).to.equal(true);
  });

  it('a flap whose failures outlast a window is a run again: its end is told at once', () => {
    const told = anHour(new FailureRun(), 5000, (i, t) =>
      t < 60_000 ? i % 2 === 0 : t < 2_000_000,
    );
    expect(told).to.deep.equal([
      '0 s: started',
      '5 s: recovered',
      '10 s: flapping, failed 2 of the last 3 x in 10 s',
      '610 s: flapping, failed 115 of the last 120 x in 10 min',
      '2000 s: recovered',
    ]);
  });

  it('a single outage and its recovery are still one line each', () => {
    // Five minutes of failures at 0..295 s, then a steady 55 min.
    const run = new FailureRun({ remindMs: REASON_REPEAT_MS });
    const told = anHour(run, 5000, (i) => i < 60);
    expect(told).to.deep.equal(['0 s: started', '300 s: recovered']);
    expect(run.settled).to.equal(true);
  });

  it('a failure after a recovery has held for a window is a new run, told as one', () => {
    const run = new FailureRun();
    run.failed('503', 0);
    run.succeeded(1000);
    expect(run.succeeded(FLAP_WINDOW_MS - 1), 'not yet held').to.equal(undefined);
    expect(run.settled).to.equal(false);
    expect(run.failed('503', FLAP_WINDOW_MS)).to.equal('started');
  });
});
