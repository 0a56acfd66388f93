import { expect } from 'chai';
import { ScriptedClock, ScriptedCpu, scriptedCarbonscope } from './scripted.js';

// A sample taken in a sample listener's call (an onSettled listener's settleNow(), cs.stop()'s
// last) is told to every listener after the one it was taken in: before, the listeners after
// it were given it first and the older sample last, so what they held was a sample late.
describe('a sample taken in a sample listener’s call', () => {
  it('is told to every listener after the sample it was taken in, in order', async () => {
    const clock = new ScriptedClock(10_000);
    const cpu = new ScriptedCpu();
    const cs = await scriptedCarbonscope({ clock, cpu });
    await cs.start();
    try {
      const given: number[] = [];
      let sampledIn = false;
      cs.onSettled(() => {
        if (sampledIn) return;
        sampledIn = true;
        clock.advance(100);
        cpu.interval(0.5, 0.5, 0.3);
        cs.meter.sampleNow();
      });
      cs.onSample((sample) => given.push(sample.nowMs));
      cs.track('a', () => clock.advance(100));
      cpu.interval(0.5, 0.5, 0.3);
      cs.meter.sampleNow();
      expect(given).to.deep.equal([10_100, 10_200]);
      expect(given.at(-1)).to.equal(cs.meter.latest()?.nowMs);
    } finally {
      await cs.stop();
    }
  });

  it('settles what ended before it, at it', async () => {
    const clock = new ScriptedClock(10_000);
    const cpu = new ScriptedCpu();
    const cs = await scriptedCarbonscope({ clock, cpu });
    await cs.start();
    try {
      const settled: string[] = [];
      cs.onSettled((f) => {
        settled.push(`${f.operation} at ${cs.meter.latest()?.nowMs}`);
        if (f.operation !== 'a') return;
        cs.track('b', () => clock.advance(100));
        cpu.interval(0.5, 0.5, 0.3);
        cs.meter.sampleNow();
      });
      cs.track('a', () => clock.advance(100));
      cpu.interval(0.5, 0.5, 0.3);
      cs.meter.sampleNow();
      expect(settled).to.deep.equal(['a at 10100', 'b at 10200']);
    } finally {
      await cs.stop();
    }
  });
});
