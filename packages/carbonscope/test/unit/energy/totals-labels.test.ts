import { expect } from 'chai';
import type { OperationFootprint, PowerSource } from '../../../src/energy/index.js';
import {
  intensityReading,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  scriptedCarbonscope,
  switchingSource,
} from './scripted.js';

async function rig(host: PowerSource) {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const cs = await scriptedCarbonscope({
    clock,
    cpu,
    host,
    env: { ENERGY_ATTRIBUTION: 'proportional' },
    grid: new StubGrid(intensityReading('DE', 400)),
    wallClock: () => Date.UTC(2026, 0, 1),
  });
  await cs.start();
  const interval = () => {
    clock.advance(1000);
    // 2 CPUs, one busy, the process half of that: half the host's energy is the process's.
    cpu.interval(1, 0.5, 0.5);
    return cs.meter.sampleNow();
  };
  return { cs, interval };
}

describe('the totals say what their joules are', () => {
  it('an estimate for one tick, then a meter: the totals stay labelled, the watts follow the meter', async () => {
    const { source, state } = switchingSource(10);
    const { cs, interval } = await rig(source);
    interval();
    const first = cs.snapshot().totals;
    expect(first.host).to.include({ estimated: true, wattsEstimated: true });
    expect(first.host.estimatedJoules).to.be.closeTo(10, 1e-9);
    expect(first.process.estimatedJoules).to.be.closeTo(5, 1e-9);

    state.measured = true;
    interval();
    const { host, process } = cs.snapshot().totals;
    // 10 J of the estimate's and 10 J RAPL measured: the 20 J are not all measured.
    expect(host.joules).to.be.closeTo(20, 1e-9);
    expect(host.estimated, 'the totals hold 10 J of the estimate').to.equal(true);
    expect(process.estimated, 'the totals hold 5 J of the estimate').to.equal(true);
    expect(host).to.include({ estimated: true, wattsEstimated: false });
    expect(host.estimatedJoules).to.be.closeTo(10, 1e-9);
    expect(process.joules).to.be.closeTo(10, 1e-9);
    expect(process).to.include({ estimated: true, wattsEstimated: false });
    expect(process.estimatedJoules).to.be.closeTo(5, 1e-9);
    await cs.stop();
  });

  it('an operation that ran only after the meter took over is measured', async () => {
    const { source, state } = switchingSource(10);
    const { cs, interval } = await rig(source);
    interval();
    state.measured = true;
    const ends: OperationFootprint[] = [];
    cs.onEnd((f) => ends.push(f));
    const op = cs.begin('work');
    interval();
    op.end();
    interval();
    expect(cs.snapshot().totals.process.estimated).to.equal(true);
    expect(ends).to.have.length(1);
    expect(ends[0]?.joules).to.be.greaterThan(0);
    expect(ends[0]?.estimated).to.equal(false);
    await cs.stop();
  });

  // A guard, both ways across a switch: an operation holding any of the estimate's joules is
  // estimated, whichever source its last interval had.
  for (const [from, to] of [
    [false, true],
    [true, false],
  ] as const) {
    it(`an operation across a switch from ${from ? 'a meter' : 'the estimate'} is estimated`, async () => {
      const { source, state } = switchingSource(10);
      state.measured = from;
      const { cs, interval } = await rig(source);
      interval();
      const ends: OperationFootprint[] = [];
      cs.onEnd((f) => ends.push(f));
      const op = cs.begin('work');
      interval();
      state.measured = to;
      interval();
      op.end();
      interval();
      expect(ends.map((f) => f.estimated)).to.deep.equal([true]);
      await cs.stop();
    });
  }

  it('a meter throughout: nothing estimated', async () => {
    const { source, state } = switchingSource(10);
    state.measured = true;
    const { cs, interval } = await rig(source);
    interval();
    interval();
    const { host, process } = cs.snapshot().totals;
    expect(host).to.include({ estimated: false, wattsEstimated: false, estimatedJoules: 0 });
    expect(process).to.include({ estimated: false, wattsEstimated: false, estimatedJoules: 0 });
    await cs.stop();
  });

  it('a meter that falls back to the estimate: the current watts and the totals are estimated', async () => {
    const { source, state } = switchingSource(10);
    state.measured = true;
    const { cs, interval } = await rig(source);
    interval();
    state.measured = false;
    interval();
    const { host } = cs.snapshot().totals;
    expect(host).to.include({ estimated: true, wattsEstimated: true });
    expect(host.estimatedJoules).to.be.closeTo(10, 1e-9);
    await cs.stop();
  });

  it('before the first sample: labelled by the source in use, none of it estimated yet', async () => {
    const { source } = switchingSource(10);
    const { cs } = await rig(source);
    const { host, process } = cs.snapshot().totals;
    expect(host).to.include({ estimated: true, wattsEstimated: true, estimatedJoules: 0 });
    expect(process).to.include({ estimated: true, wattsEstimated: true, estimatedJoules: 0 });
    await cs.stop();
  });
});
