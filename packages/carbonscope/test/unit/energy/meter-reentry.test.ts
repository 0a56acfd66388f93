import { expect } from 'chai';
import type { Carbonscope } from '../../../src/runtime/index.js';
import { ScriptedClock, ScriptedCpu, scriptedCarbonscope } from './scripted.js';

/** Runs `body` with a started scripted carbonscope and `sample()`, 100 ms on; stops it after. */
async function withStarted(
  body: (cs: Carbonscope, clock: ScriptedClock, sample: () => void) => void,
): Promise<void> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const cs = await scriptedCarbonscope({ clock, cpu });
  await cs.start();
  const sample = (): void => {
    cpu.interval(0.5, 0.5, 0.3);
    cs.meter.sampleNow();
  };
  try {
    body(cs, clock, sample);
  } finally {
    await cs.stop();
  }
}

// A sample taken in a sample listener's call (an onSettled listener's settleNow(), cs.stop()'s
// last) is told to every listener after the one it was taken in: before, the listeners after
// it were given it first and the older sample last, so what they held was a sample late.
describe('a sample taken in a sample listener’s call', () => {
  it('is told to every listener after the sample it was taken in, in order', () =>
    withStarted((cs, clock, sample) => {
      const given: number[] = [];
      cs.onSettled((f) => {
        if (f.operation !== 'a') return;
        clock.advance(100);
        sample();
      });
      cs.onSample((s) => given.push(s.nowMs));
      cs.track('a', () => clock.advance(100));
      sample();
      expect(given).to.deep.equal([10_100, 10_200]);
      expect(given.at(-1)).to.equal(cs.meter.latest()?.nowMs);
    }));

  it('settles what ended before it, at it', () =>
    withStarted((cs, clock, sample) => {
      const settled: string[] = [];
      cs.onSettled((f) => {
        settled.push(`${f.operation} at ${cs.meter.latest()?.nowMs}`);
        if (f.operation !== 'a') return;
        cs.track('b', () => clock.advance(100));
        sample();
      });
      cs.track('a', () => clock.advance(100));
      sample();
      expect(settled).to.deep.equal(['a at 10100', 'b at 10200']);
    }));
});
