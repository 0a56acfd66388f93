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
import { buildPowercapTree, setEnergy, tempDir } from '../energy/sources/helpers.js';

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

/** The counter's wrap point on a real package zone (intel_rapl_common.c's, 2^32 units). */
const MAX_UJ = 262_143_328_850;

/** A source that reads nothing: nvidia-smi, absent. */
function absent(): PowerSource {
  const none = new ScriptedSource('nvidia-smi', 'gpu', false, () => []);
  none.probe = async () => ({ ok: false, reason: 'not here' });
  return none;
}

/**
 * RAPL from a scripted powercap tree, as the default instance reads it (ENERGY_SOURCE=rapl): its
 * package's counter is `atCreate` as carbonscope is made (and probed), `atStart` as its meter
 * starts 1 s later, `atTick` at its first sample 100 ms after that.
 */
async function raplFirstInterval(
  counters: { atCreate: number; atStart: number; atTick: number },
  startingNow = true,
): Promise<{ sample: EnergySample; warnings: string[] }> {
  const { dir, cleanup } = tempDir('early-rapl');
  try {
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: counters.atCreate, maxUj: MAX_UJ },
    ]);
    const clock = new ScriptedClock(10_000);
    const cpu = new ScriptedCpu();
    const { logger, lines } = memoryLogger();
    const cs = await Carbonscope.create(
      {
        settings: testConfig({
          ENERGY_SOURCE: 'rapl',
          ENERGY_POWERCAP_ROOT: dir,
          ENERGY_ATTRIBUTION: 'proportional',
        }),
        logger,
        grid: new StubGrid(intensityReading('DE', 400)),
        select: { platform: 'linux', make: { 'nvidia-smi': absent } },
        clock: clock.now,
        timer: new ManualTimer(),
        hostCpu: cpu.hostCpu,
        processCpu: cpu.processCpu,
      },
      'test',
      startingNow ? {} : undefined,
    );
    clock.advance(1000);
    setEnergy(dir, 'intel-rapl:0', counters.atStart);
    await cs.start();
    clock.advance(100);
    setEnergy(dir, 'intel-rapl:0', counters.atTick);
    cpu.interval(1.1, 0.5, 0.55);
    const sample = cs.meter.sampleNow();
    await cs.stop();
    if (!sample) throw new Error('no first sample');
    const warnings = lines.filter((l) => Number(l.level) >= 40).map((l) => String(l.msg));
    return { sample, warnings };
  } finally {
    cleanup();
  }
}

describe("the default instance's meter: RAPL's first interval runs from create() too", () => {
  // The 1.1 s from create() to the first sample drew 12 J on the package counter: 10 J while
  // the sources were probed and the grid fetched, 2 J since the meter's start. Counted from its
  // first reading at the start, RAPL gave the interval 2 J over the 1.1 s of its time and CPU.
  it('counts the counter from create(): every joule of the first interval, none twice', async () => {
    const { sample } = await raplFirstInterval({
      atCreate: 5_000_000,
      atStart: 15_000_000,
      atTick: 17_000_000,
    });
    expect(sample.elapsedMs).to.equal(1100);
    expect(sample.hostJoules).to.equal(12);
    // The process's share by its CPU, over the same span as the energy (0.55 of 1.1 busy CPU-s).
    expect(sample.processJoules).to.be.closeTo(6, 1e-9);
  });

  it('counts a wrap between create() and the first sample once, at max_energy_range_uj', async () => {
    const { sample, warnings } = await raplFirstInterval({
      atCreate: MAX_UJ - 4_000_000,
      atStart: MAX_UJ - 1_000_000,
      atTick: 3_000_000,
    });
    expect(sample.hostJoules).to.equal(7);
    expect(warnings.filter((w) => w.includes('went back'))).to.deep.equal([]);
  });

  it('leaves a create() of its own as it was: RAPL counts from the start', async () => {
    const { sample } = await raplFirstInterval(
      { atCreate: 5_000_000, atStart: 15_000_000, atTick: 17_000_000 },
      false,
    );
    expect(sample.elapsedMs).to.equal(100);
    expect(sample.hostJoules).to.equal(2);
  });
});
