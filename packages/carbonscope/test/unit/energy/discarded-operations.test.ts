import { expect } from 'chai';
import type { OperationContext, OperationFootprint } from '../../../src/energy/index.js';
import { EnergyTracker } from '../../../src/energy/tracker.js';
import { ScriptedClock, sampleAt } from './scripted.js';

/** A tracker on a scripted clock, with what it reported (onEnd, onRequestEnd, onFinish). */
function setup(captureContext?: () => OperationContext) {
  const clock = new ScriptedClock(0);
  const tracker = new EnergyTracker({ clock: clock.now, loopIdle: clock.loopIdle, captureContext });
  const ended: OperationFootprint[] = [];
  const requests: unknown[] = [];
  const finished: OperationFootprint[] = [];
  tracker.onEnd((f) => ended.push(f));
  tracker.onRequestEnd((op) => requests.push(op));
  tracker.onFinish((f) => finished.push(f));
  let last = 0;
  const sample = (joules: number) => {
    tracker.update(sampleAt(clock.ms, joules, 0, false, clock.ms - last, 0, 0));
    last = clock.ms;
  };
  return { clock, tracker, ended, requests, finished, sample };
}

describe('energy: an operation discarded (a request that turned out to be a metrics scrape)', () => {
  it('counts nothing, reports nothing at its end, and leaves the energy to the others', () => {
    const { clock, tracker, ended, requests, finished, sample } = setup();
    sample(0);
    const kept = tracker.begin('kept', 'request');
    const scrape = tracker.begin('request', 'request');
    expect(tracker.discard(scrape)).to.equal(true);
    expect(tracker.active).to.equal(1);
    clock.advance(10);
    scrape.end('unmatched', 200);
    kept.end('kept', 200);
    sample(4);
    expect(ended.map((f) => f.operation)).to.deep.equal(['kept']);
    expect(ended[0]?.joules).to.be.closeTo(4, 1e-9);
    expect(requests.map((op) => op === kept)).to.deep.equal([true]);
    expect(finished.map((f) => f.operation)).to.deep.equal(['kept']);
    expect(tracker.pending).to.equal(0);
    expect(tracker.active).to.equal(0);
  });

  it('leaves counted one whose context was captured: its span waits for its figures', () => {
    const settled: OperationFootprint[] = [];
    const { clock, tracker, ended, sample } = setup(() => ({ settle: (f) => settled.push(f) }));
    sample(0);
    const op = tracker.begin('request', 'request');
    op.captureContext();
    expect(tracker.discard(op)).to.equal(false);
    clock.advance(10);
    op.end('unmatched', 200);
    sample(2);
    expect(ended.map((f) => f.operation)).to.deep.equal(['unmatched']);
    expect(
      settled.map((f) => f.operation),
      'the context told',
    ).to.deep.equal(['unmatched']);
  });

  it('ignores an operation it does not run, or one already ended', () => {
    const { tracker, ended, sample } = setup();
    const other = setup().tracker;
    sample(0);
    const op = other.begin('elsewhere', 'request');
    expect(tracker.discard(op)).to.equal(false);
    expect(other.active).to.equal(1);
    const done = tracker.begin('done', 'request');
    done.end();
    expect(tracker.discard(done)).to.equal(false);
    expect(tracker.active, 'running, after').to.equal(0);
    sample(1);
    expect(ended.map((f) => f.operation)).to.deep.equal(['done']);
  });
});
