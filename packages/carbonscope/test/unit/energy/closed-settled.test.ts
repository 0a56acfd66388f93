import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { TrackedOperation } from '../../../src/energy/tracked-operation.js';
import { EnergyTracker } from '../../../src/energy/tracker.js';
import { ScriptedClock, sampleAt } from './scripted.js';

/** What settled() came to: its footprint's joules, or its error's message, or 'pending'. */
async function outcome(settled: Promise<OperationFootprint>): Promise<string> {
  const pending = 'pending';
  // A macrotask: a promise settled already (resolved or rejected) is through by then.
  const later = new Promise<string>((resolve) => setImmediate(() => resolve(pending)));
  return Promise.race([
    settled.then(
      (f) => `${f.joules} J`,
      (err: Error) => err.message,
    ),
    later,
  ]);
}

// close() (track()'s and request tracking's end) keeps nothing for settled(): asked after it,
// settled() waited for ever, whether the sample had settled the operation unread or not yet.
describe('settled() of an operation ended with close()', () => {
  const trackers: EnergyTracker[] = [];
  afterEach(() => {
    for (const t of trackers.splice(0)) t.stop();
  });

  /** `awaited`: with the settled() called before its close(). */
  function closed(awaited?: (settled: Promise<OperationFootprint>) => void): {
    op: TrackedOperation;
    sample(): void;
    ended: OperationFootprint[];
  } {
    const clock = new ScriptedClock(0);
    const { now, loopIdle } = clock;
    const t = new EnergyTracker({ clock: now, loopIdle, attribution: 'wall' });
    trackers.push(t);
    const ended: OperationFootprint[] = [];
    t.onEnd((f) => ended.push(f));
    const op = t.begin('job');
    if (!(op instanceof TrackedOperation)) throw new Error('a tracker begins TrackedOperations');
    awaited?.(op.settled());
    clock.advance(100);
    op.close();
    return {
      op,
      sample: () => t.update(sampleAt(clock.now(), 2, 0.0001, false, clock.now())),
      ended,
    };
  }

  const refused =
    'settled() after close() of "job": close() keeps no settled figure (onEnd and the metrics have it); end() keeps it for settled()';

  it('asked after its figures were settled unread: rejects at once, with why', async () => {
    const { op, sample, ended } = closed();
    sample();
    expect(await outcome(op.settled())).to.equal(refused);
    // The figure went where close() sends it: the onEnd listeners, all of the 2 J of the
    // interval it ran alone in.
    expect(ended.map((f) => `${f.operation} ${f.joules} J ${f.provisional}`)).to.deep.equal([
      'job 2 J false',
    ]);
  });

  it('asked before its sample: rejects at once, and the sample settles it as before', async () => {
    const { op, sample, ended } = closed();
    expect(await outcome(op.settled())).to.equal(refused);
    sample();
    expect(ended.map((f) => `${f.operation} ${f.joules} J`)).to.deep.equal(['job 2 J']);
  });

  // One awaited before its close() is kept for that waiter: a second settled() after the close
  // was refused, as if nothing kept it, and the first then resolved.
  it('awaited before its close(): asked again after it, waits with the first', async () => {
    const asked: Promise<string>[] = [];
    const { op, sample } = closed((settled) => asked.push(outcome(settled)));
    const again = op.settled();
    sample();
    asked.push(outcome(again), outcome(op.settled()));
    expect(await Promise.all(asked)).to.deep.equal(['2 J', '2 J', '2 J']);
  });
});
