import { expect } from 'chai';
import { parseRunArgs } from '../../../src/cli/args.js';
import type { Report } from '../../../src/cli/report.js';
import { openSession, startMeter } from '../../../src/cli/session.js';
import { openWindow } from '../../../src/cli/window.js';
import {
  type GpuShareOutcome,
  monotonicClock,
  PmonParser,
  PmonShares,
} from '../../../src/energy/index.js';
import { pipedBlocks } from '../energy/gpu-share/fixtures.js';
import { buildPowercapTree, setEnergy, tempDir } from '../energy/sources/helpers.js';

const ENV = {
  CARBON_INTENSITY: '300',
  CARBON_ZONE: 'DE',
  ELECTRICITY_MAPS_API_KEY: '',
  ELECTRICITY_MAP_API_KEY: '',
  LOG_LEVEL: '',
};

/**
 * A run's report whose window opened at 2026-03-29T00:30:00Z and closed once each clock had gone
 * on by as much as `by` says (ms): the monotonic, the boot (suspends included) and the wall clock.
 * Without `boot` the window is given no boot clock, and reads its own.
 */
async function runAcross(by: { monotonic: number; boot?: number; wall: number }): Promise<Report> {
  const options = parseRunArgs(['--source', 'estimate', '--', 'true']);
  const session = await openSession({ options, args: [], env: ENV, processCpu: () => 0 });
  await startMeter(session.meter);
  const clocks = { wall: Date.UTC(2026, 2, 29, 0, 30), monotonic: 1000, boot: 70_000 };
  const window = openWindow(session, {
    wall: () => clocks.wall,
    monotonic: () => clocks.monotonic,
    ...(by.boot === undefined ? {} : { boot: () => clocks.boot }),
  });
  clocks.monotonic += by.monotonic;
  clocks.boot += by.boot ?? 0;
  clocks.wall += by.wall;
  const report = await window.close({ command: 'run', projectName: 'demo' });
  await session.close();
  return report;
}

describe('the measured window of run', () => {
  it("reads what the meter's last sample can change after that sample: the GPU share's outcome", async () => {
    // pmon named the command's pid 574 busy, but /proc no longer has it (it had ended when
    // the row came) and the command's tree knows it only from the read at the last sample.
    let treeRead = false;
    const shares = new PmonShares({
      isCommand: (pid) => pid === 574 && treeRead,
      pidExists: () => false,
      clock: monotonicClock,
    });
    const options = parseRunArgs(['--source', 'estimate', '--', 'true']);
    const session = await openSession({
      options,
      args: [],
      env: ENV,
      processCpu: () => 0,
      gpuShares: shares,
    });
    shares.begin(async () => undefined);
    await startMeter(session.meter);
    const window = openWindow(session);
    const parser = new PmonParser();
    for (const line of pipedBlocks('pmon-piped.txt')[0]) {
      const row = parser.line(line);
      if (row) shares.add(row);
    }
    treeRead = true; // the command ended: the last sample's tree read finds it
    let told: GpuShareOutcome | undefined;
    const report = await window.close({ command: 'run', projectName: 'demo' }, () => {
      told = shares.outcome();
      return told ? { gpuShare: told } : {};
    });
    await session.close();
    // Read before the last sample, it was the fallback of a foreign pid namespace.
    expect(told).to.deep.equal({ read: true, commandBusy: true });
    expect(report.command).to.equal('run');
  });

  // The energy is the meter's, from its baseline to its last sample; the CLI read its own clock
  // after the baseline and before the last sample. Under load the two were 10-17 ms apart, and a
  // steady 77.36 W GPU over 2 s read 78.0 W.
  it("divides by the meter's window: the time its samples cover, not the CLI's clock around it", async () => {
    const options = parseRunArgs(['--source', 'estimate', '--', 'true']);
    const session = await openSession({ options, args: [], env: ENV, processCpu: () => 0 });
    let sampledMs = 0;
    session.meter.onSample((s) => {
      sampledMs += s.elapsedMs;
    });
    await startMeter(session.meter);
    const clocks = { wall: Date.UTC(2026, 2, 29, 0, 30), monotonic: 1000 };
    const window = openWindow(session, {
      wall: () => clocks.wall,
      monotonic: () => clocks.monotonic,
    });
    clocks.monotonic += 5000;
    clocks.wall += 5000;
    await new Promise((resolve) => setTimeout(resolve, 150));
    const report = await window.close({ command: 'run', projectName: 'demo' });
    await session.close();
    expect(sampledMs).to.be.greaterThan(0);
    expect(report.durationSeconds).to.be.closeTo(sampledMs / 1000, 1e-9);
    expect(report.host.averageWatts).to.be.closeTo(report.host.joules / (sampledMs / 1000), 1e-6);
  });

  // The monotonic clock stands still in a suspend; a RAPL counter does not. A run across an hour
  // asleep divided the hour's joules by its seconds awake: 1,800 J over 10 s read 180 W.
  it('divides the joules by the span they cover, a suspend included (the boot clock)', async () => {
    const { dir, cleanup } = tempDir('window-suspend');
    buildPowercapTree(dir, [
      { dir: 'intel-rapl:0', name: 'package-0', energyUj: 1_000_000, maxUj: 262_143_328_850 },
    ]);
    const options = parseRunArgs(['--source', 'rapl', '--', 'true']);
    let boot = 50_000;
    const bootAt = monotonicClock();
    const session = await openSession({
      options,
      args: [],
      env: { ...ENV, ENERGY_POWERCAP_ROOT: dir },
      processCpu: () => 0,
      bootClock: () => boot + (monotonicClock() - bootAt),
    });
    let sampledMs = 0;
    session.meter.onSample((s) => {
      sampledMs += s.elapsedMs;
    });
    await startMeter(session.meter);
    const window = openWindow(session);
    // An hour asleep, which the monotonic clock does not count, at 0.5 W suspend-to-idle.
    boot += 3_600_000;
    setEnergy(dir, 'intel-rapl:0', 1_000_000 + 1_800_000_000);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const report = await window.close({ command: 'run', projectName: 'demo' });
    await session.close();
    cleanup();
    const spanSeconds = sampledMs / 1000 + 3600;
    expect(report.host.joules).to.equal(1800);
    expect(report.durationSeconds).to.be.closeTo(spanSeconds, 0.05);
    expect(report.host.averageWatts).to.be.closeTo(0.5, 0.001);
  });

  it('keeps the end after the start when the wall clock steps back an hour during the run', async () => {
    const report = await runAcross({ monotonic: 5000, wall: 5000 - 3_600_000 });
    // The clock that stepped is taken to be the right one now: the start is the end less 5 s.
    expect(report.endedAt).to.equal('2026-03-28T23:30:05.000Z');
    expect(report.startedAt).to.equal('2026-03-28T23:30:00.000Z');
  });

  it('keeps both readings when the wall clock went on further than the run (a suspend looks alike)', async () => {
    const report = await runAcross({ monotonic: 5000, wall: 5000 + 3_600_000 });
    expect(report.startedAt).to.equal('2026-03-29T00:30:00.000Z');
    expect(report.endedAt).to.equal('2026-03-29T01:30:05.000Z');
  });

  // A VM paused while its host slept (Docker Desktop, WSL) wakes with its boot clock where it was
  // and its wall clock set forward: time passed, so the start read stands, as it does for a
  // clock set forward, which looks alike.
  it('keeps both readings where the wall clock went on past the boot clock (a VM paused)', async () => {
    const report = await runAcross({
      monotonic: 5000,
      boot: 5000,
      wall: 5000 + 86_400_000,
    });
    expect(report.startedAt).to.equal('2026-03-29T00:30:00.000Z');
    expect(report.endedAt).to.equal('2026-03-30T00:30:05.000Z');
  });

  it('keeps both readings where the boot clock went on with the wall clock (a suspend)', async () => {
    const report = await runAcross({
      monotonic: 5000,
      boot: 5000 + 3_600_000,
      wall: 5000 + 3_600_000,
    });
    expect(report.startedAt).to.equal('2026-03-29T00:30:00.000Z');
    expect(report.endedAt).to.equal('2026-03-29T01:30:05.000Z');
  });

  // Stepped back an hour across a 2 h suspend: the wall clock still read more than the monotonic
  // duration, so the step went unseen and the start read stood, an hour late on the clock now.
  it('moves the start by a step back by the time the boot clock counted, a suspend included', async () => {
    const report = await runAcross({
      monotonic: 5000,
      boot: 5000 + 7_200_000,
      wall: 5000 + 7_200_000 - 3_600_000,
    });
    expect(report.endedAt).to.equal('2026-03-29T01:30:05.000Z');
    expect(report.startedAt).to.equal('2026-03-28T23:30:00.000Z');
  });

  it('keeps the start read when the ends are short of the duration by whole-ms rounding only', async () => {
    const report = await runAcross({ monotonic: 5000.9, wall: 5000 });
    expect(report.startedAt).to.equal('2026-03-29T00:30:00.000Z');
  });
});
