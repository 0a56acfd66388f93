import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { EnergyTracker, MAX_UNSETTLED } from '../../../src/energy/tracker.js';
import { ScriptedClock, sampleAt } from './scripted.js';

const trackers: EnergyTracker[] = [];

/**
 * A tracker under wall attribution (every operation weighed by its time), its clock at 0, and a
 * sample of `joules` for the interval since the last (the first since 0).
 */
function tracker(): { clock: ScriptedClock; tracker: EnergyTracker; sample(j: number): void } {
  const clock = new ScriptedClock(0);
  const t = new EnergyTracker({ clock: clock.now, loopIdle: clock.loopIdle, attribution: 'wall' });
  trackers.push(t);
  let last = 0;
  const sample = (joules: number): void => {
    const elapsed = clock.now() - last;
    last = clock.now();
    t.update(sampleAt(last, joules, 0.0001, false, elapsed));
  };
  return { clock, tracker: t, sample };
}

/** Three operations of 100, 200 and 300 ms, one after another, ended before the sample. */
function endThree(clock: ScriptedClock, t: EnergyTracker): void {
  for (const [name, ms] of [
    ['a', 100],
    ['b', 200],
    ['c', 300],
  ] as const) {
    const op = t.begin(name);
    clock.advance(ms);
    op.end();
  }
}

const sum = (footprints: readonly OperationFootprint[]): number =>
  footprints.reduce((total, f) => total + f.joules, 0);

// A listener that takes a sample in its call (cs.stop() takes its last one at once) must not
// settle an interval inside the report: the lent object would be rewritten under the listeners
// after it, and the operations reported twice.
describe('a sample that comes while the tracker reports', () => {
  afterEach(() => {
    for (const t of trackers.splice(0)) t.stop();
  });

  it('is settled after the report: the later onSettled listeners are lent what was due', () => {
    const { clock, tracker: t, sample } = tracker();
    endThree(clock, t);
    const after: string[] = [];
    let sampled = false;
    t.onSettled(() => {
      if (sampled) return;
      sampled = true;
      sample(5);
    });
    t.onSettled((f) => after.push(f.operation));
    sample(6);
    expect(after).to.deep.equal(['a', 'b', 'c']);
  });

  it('tells onEnd of each operation once, and loses no interval', () => {
    const { clock, tracker: t, sample } = tracker();
    const ended: OperationFootprint[] = [];
    let sampled = false;
    t.onEnd(() => {
      if (sampled) return;
      sampled = true;
      // The interval this one settles ran 1 s under `d` alone: its 4 J go to `d`.
      clock.advance(1000);
      sample(4);
    });
    t.onEnd((f) => ended.push(f));
    const d = t.begin('d');
    endThree(clock, t);
    sample(6);
    d.end();
    sample(0);
    expect(ended.map((f) => f.operation)).to.deep.equal(['a', 'b', 'c', 'd']);
    expect(sum(ended)).to.be.closeTo(10, 1e-9);
    expect(ended[3].joules).to.be.closeTo(3 + 4, 1e-9);
  });

  it("waits, as a stop() in a listener's call does: each operation is reported once, settled", () => {
    const { clock, tracker: t, sample } = tracker();
    endThree(clock, t);
    const ended: OperationFootprint[] = [];
    t.onEnd(() => t.stop());
    t.onEnd((f) => ended.push(f));
    sample(6);
    expect(ended.map((f) => `${f.operation} ${f.provisional}`)).to.deep.equal([
      'a false',
      'b false',
      'c false',
    ]);
  });

  it('puts a listener failure of the deferred settlement where failures outside a sample go', () => {
    const clock = new ScriptedClock(0);
    const failures: unknown[] = [];
    const t = new EnergyTracker({
      clock: clock.now,
      loopIdle: clock.loopIdle,
      attribution: 'wall',
      onListenerError: (err) => failures.push(err),
    });
    trackers.push(t);
    const sample = (): void => t.update(sampleAt(clock.now(), 1, 0.0001, false));
    const first = t.begin('first');
    clock.advance(100);
    first.end();
    let calls = 0;
    t.onEnd(() => {
      calls++;
      if (calls === 1) {
        const second = t.begin('second');
        clock.advance(100);
        second.end();
        // Reported at the deferred sample, whose settlement this listener then fails.
        sample();
        return;
      }
      throw new Error('second listener call');
    });
    expect(() => sample()).not.to.throw();
    expect(calls).to.equal(2);
    expect(failures.map((e) => (e as Error).message)).to.deep.equal(['second listener call']);
  });
});

// An operation ended in a listener's call ended after the interval being reported: it waits for
// the next sample (its share of the interval it ended in), as any operation that ends does.
describe('an operation ended while the tracker reports', () => {
  afterEach(() => {
    for (const t of trackers.splice(0)) t.stop();
  });

  it('is reported at the next sample, with its share of the interval it ended in', () => {
    const { clock, tracker: t, sample } = tracker();
    const ended: OperationFootprint[] = [];
    const x = t.begin('x');
    endThree(clock, t);
    t.onEnd((f) => {
      ended.push(f);
      if (f.operation !== 'a') return;
      clock.advance(400);
      x.end();
    });
    sample(6);
    expect(ended.map((f) => f.operation)).to.deep.equal(['a', 'b', 'c']);
    // The 400 ms `x` ran into the next interval are 4 of its 10 J (it ran alone there).
    clock.advance(600);
    sample(10);
    expect(ended.map((f) => f.operation)).to.deep.equal(['a', 'b', 'c', 'x']);
    expect(ended[3].provisional).to.equal(false);
    expect(ended[3].joules).to.be.closeTo(3 + 4, 1e-9);
  });

  it('counts as pending while it waits for the report to end, those reported not', () => {
    const { clock, tracker: t, sample } = tracker();
    const x = t.begin('x');
    endThree(clock, t);
    const seen: number[] = [];
    t.onEnd((f) => {
      if (f.operation === 'a') x.end();
      seen.push(t.pending);
    });
    sample(6);
    // a b c are settled as they are reported; `x` waits for the next sample.
    expect(seen).to.deep.equal([1, 1, 1]);
    expect(t.pending).to.equal(1);
  });

  it(`waits, ${MAX_UNSETTLED} at most: one more is reported at once, provisional`, () => {
    const { clock, tracker: t, sample } = tracker();
    endThree(clock, t);
    const ended: OperationFootprint[] = [];
    t.onEnd((f) => {
      ended.push(f);
      if (f.operation !== 'a') return;
      for (let i = 0; i < MAX_UNSETTLED; i++) t.begin('row').end();
      t.begin('overflow').end();
    });
    sample(6);
    expect(ended.map((f) => `${f.operation} ${f.provisional}`)).to.deep.equal([
      'a false',
      'overflow true',
      'b false',
      'c false',
    ]);
    expect(t.pending).to.equal(MAX_UNSETTLED);
  });

  it(`waits where ${MAX_UNSETTLED} are reported: those are settled, and count no more`, () => {
    const { clock, tracker: t, sample } = tracker();
    for (let i = 0; i < MAX_UNSETTLED; i++) t.begin('row').end();
    clock.advance(100);
    const ended: string[] = [];
    t.onEnd((f) => {
      if (f.operation === 'row') return;
      ended.push(`${f.operation} ${f.provisional}`);
    });
    let first = true;
    t.onEnd(() => {
      if (!first) return;
      first = false;
      t.begin('x').end();
    });
    sample(6);
    expect(ended).to.deep.equal([]);
    expect(t.pending).to.equal(1);
    sample(1);
    expect(ended).to.deep.equal(['x false']);
  });

  it("awaited in the listener's call, leaves the tracker awaited (the loop's end samples)", async () => {
    const clock = new ScriptedClock(0);
    let told = 0;
    const t = new EnergyTracker({
      clock: clock.now,
      loopIdle: clock.loopIdle,
      attribution: 'wall',
      onAwaited: () => told++,
    });
    trackers.push(t);
    const sample = (joules: number): void =>
      t.update(sampleAt(clock.now(), joules, 0.0001, false, 100));
    const x = t.begin('x');
    const a = t.begin('a');
    clock.advance(100);
    a.end();
    let waiting: Promise<OperationFootprint> | undefined;
    t.onEnd((f) => {
      if (f.operation !== 'a') return;
      clock.advance(100);
      x.end();
      waiting = x.settled();
    });
    sample(2);
    // Reset as the report ended, the flag LoopEndSettler reads said no one waited: no sample
    // at the loop's end, and settled() waited for the meter's next one.
    expect(t.awaited).to.equal(true);
    expect(told).to.be.greaterThan(0);
    // Half of the first interval's 2 J (with `a`), all of the next one's 1 J (alone).
    sample(1);
    expect((await waiting)?.joules).to.be.closeTo(1 + 1, 1e-9);
  });
});
