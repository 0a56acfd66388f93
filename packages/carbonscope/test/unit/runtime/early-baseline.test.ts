import { expect } from 'chai';
import type { EnergySample, OperationFootprint } from '../../../src/energy/index.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  testConfig,
} from '../energy/scripted.js';

interface FirstInterval {
  sample: EnergySample;
  row: OperationFootprint;
}

/**
 * A carbonscope made, then a second of work (one row tracked, 0.5 s of the process's CPU) before
 * its start, as a script's first lines run while the sources are probed; then started, and its
 * first sample taken 100 ms later. `startingNow`: made as the default instance is, its start to
 * follow at once.
 */
async function firstInterval(startingNow: boolean): Promise<FirstInterval> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const timer = new ManualTimer();
  const cs = await Carbonscope.create(
    {
      settings: testConfig({ ENERGY_ATTRIBUTION: 'proportional' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 400)),
      // A modelled host (the estimate's way): its energy is over the tick's time.
      sources: { host: constantSource(10, { name: 'estimate' }), gpus: [] },
      clock: clock.now,
      wallClock: () => Date.UTC(2026, 11, 6),
      timer,
      hostCpu: cpu.hostCpu,
      processCpu: cpu.processCpu,
    },
    'test',
    startingNow ? {} : undefined,
  );
  let row: OperationFootprint | undefined;
  cs.onEnd((footprint) => {
    row = footprint;
  });
  const op = cs.tracker.begin('row');
  clock.advance(1000);
  cpu.processSeconds += 0.5;
  op.end();
  await cs.start();
  clock.advance(100);
  // The host's CPU over the whole span: 2.2 CPU-s, 0.5 of them busy, the process's.
  cpu.interval(1.1, 0.5 / 2.2, 0);
  const sample = cs.meter.sampleNow();
  await cs.stop();
  if (!sample || !row) throw new Error('no first sample, or no row settled');
  return { sample, row };
}

describe("the default instance's meter: its first interval runs from create()", () => {
  it('counts the work done before the start, the process and the operation that ran it', async () => {
    const { sample, row } = await firstInterval(true);
    expect(sample.elapsedMs).to.equal(1100);
    expect(sample.processCpuSeconds).to.equal(0.5);
    // 10 W for 1.1 s, all of it the process's: the host's busy time was its 0.5 CPU-s.
    expect(sample.processJoules).to.be.closeTo(11, 1e-9);
    expect(row.joules).to.be.greaterThan(0);
    expect(row.joules).to.be.at.most(sample.processJoules + 1e-12);
  });

  it('leaves a create() of its own as it was: its first interval runs from start()', async () => {
    const { sample, row } = await firstInterval(false);
    expect(sample.elapsedMs).to.equal(100);
    expect(sample.processCpuSeconds).to.equal(0);
    expect(row.joules).to.equal(0);
  });
});
