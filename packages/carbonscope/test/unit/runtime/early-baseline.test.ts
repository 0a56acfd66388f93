// Apart from its module: it pins Carbonscope.create()'s first interval from an early baseline
// (StartingNow), which runtime/ owns; energy/early-baseline.ts only reads the clocks.
import { expect } from 'chai';
import type {
  EnergySample,
  OperationFootprint,
  PowerSource,
  SampleTick,
} from '../../../src/energy/index.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  ScriptedSource,
  StubGrid,
  testConfig,
} from '../energy/scripted.js';

interface FirstInterval {
  sample: EnergySample;
  row: OperationFootprint;
  /** snapshot().startedAt once started. */
  startedAt: string | null;
}

/** The scripted wall clock's time at create(). */
const CREATED_AT = Date.UTC(2026, 11, 6);

/**
 * A source read from a counter of its own (RAPL's, a GPU's energy lines): each reading is what
 * `watts` drew since its own last reading, whatever the tick's span says.
 */
function counterSource(watts: number, kind: 'host' | 'gpu'): ScriptedSource {
  let lastMs: number | undefined;
  const name = kind === 'gpu' ? 'nvidia-smi' : 'rapl';
  return new ScriptedSource(name, kind, false, (t: SampleTick) => {
    const joules = lastMs === undefined ? 0 : (watts * (t.nowMs - lastMs)) / 1000;
    lastMs = t.nowMs;
    const component = kind === 'gpu' ? 'gpu' : 'package';
    return [{ component, device: kind === 'gpu' ? 'gpu0' : 'package-0', joules, watts }];
  });
}

/**
 * A carbonscope made, then a second of work (one row tracked, 0.5 s of the process's CPU) before
 * its start, as a script's first lines run while the sources are probed; then started, and its
 * first sample taken 100 ms later. `startingNow`: made as the default instance is, its start to
 * follow at once.
 */
async function firstInterval(
  startingNow: boolean,
  sources: { host: PowerSource; gpus: PowerSource[] } = {
    // A modelled host (the estimate's way): its energy is over the tick's time.
    host: constantSource(10, { name: 'estimate' }),
    gpus: [],
  },
): Promise<FirstInterval> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const timer = new ManualTimer();
  const cs = await Carbonscope.create(
    {
      settings: testConfig({ ENERGY_ATTRIBUTION: 'proportional' }),
      logger: memoryLogger().logger,
      grid: new StubGrid(intensityReading('DE', 400)),
      sources,
      clock: clock.now,
      wallClock: () => CREATED_AT + clock.now() - 10_000,
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
  const { startedAt } = cs.snapshot();
  clock.advance(100);
  // The host's CPU over the whole span: 2.2 CPU-s, 0.5 of them busy, the process's.
  cpu.interval(1.1, 0.5 / 2.2, 0);
  const sample = cs.meter.sampleNow();
  await cs.stop();
  if (!sample || !row) throw new Error('no first sample, or no row settled');
  return { sample, row, startedAt };
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

  // The totals count from create(): a startedAt at the meter's start made the span they cover
  // read shorter by the sources' probe (a second or more for a slow nvidia-smi), and a rate over
  // it (the dashboard's window) higher.
  it('dates its start at create(), where its totals begin', async () => {
    const { startedAt } = await firstInterval(true);
    expect(startedAt).to.equal(new Date(CREATED_AT).toISOString());
  });

  // A counter's first reading is at the meter's start: the span before is in the interval's time
  // and CPU share, not in that source's energy. An under-count, never more than the process used.
  it('counts a counter source from its first reading, the operations within the process', async () => {
    const { sample, row } = await firstInterval(true, {
      host: counterSource(10, 'host'),
      gpus: [],
    });
    expect(sample.elapsedMs).to.equal(1100);
    // 10 W for the 0.1 s since its first reading, all of it the process's.
    expect(sample.processJoules).to.be.closeTo(1, 1e-9);
    expect(row.joules).to.be.greaterThan(0);
    expect(row.joules).to.be.at.most(sample.processJoules + 1e-12);
  });

  it("keeps a GPU counter's energy the host's, beside a modelled host", async () => {
    const { sample, row } = await firstInterval(true, {
      host: constantSource(10, { name: 'estimate' }),
      gpus: [counterSource(50, 'gpu')],
    });
    // The GPU's 5 J (0.1 s at 50 W) are the host's; the process has the estimate's 11 J.
    expect(sample.hostJoules).to.be.closeTo(16, 1e-9);
    expect(sample.processJoules).to.be.closeTo(11, 1e-9);
    expect(row.joules).to.be.at.most(sample.processJoules + 1e-12);
  });

  it('leaves a create() of its own as it was: its first interval runs from start()', async () => {
    const { sample, row } = await firstInterval(false);
    expect(sample.elapsedMs).to.equal(100);
    expect(sample.processCpuSeconds).to.equal(0);
    expect(row.joules).to.equal(0);
  });

  it('leaves its startedAt at start()', async () => {
    const { startedAt } = await firstInterval(false);
    expect(startedAt).to.equal(new Date(CREATED_AT + 1000).toISOString());
  });
});
