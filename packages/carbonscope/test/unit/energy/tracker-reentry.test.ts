import { expect } from 'chai';
import type { OperationFootprint } from '../../../src/energy/index.js';
import { EnergyTracker } from '../../../src/energy/tracker.js';
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
});
