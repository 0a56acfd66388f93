import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  type GpuShareReader,
  MAX_RUNNING,
  NO_PROCESS_CPU,
  type OperationFootprint,
  PmonParser,
  PmonShares,
} from '../../../src/energy/index.js';
import { withLateGpu } from '../../../src/energy/sources/gpu-late-start.js';
import { withLateStart } from '../../../src/energy/sources/late-start.js';
import { createRaplSource } from '../../../src/energy/sources/rapl.js';
import type {
  EnergyReading,
  HostCpuDelta,
  PowerSource,
} from '../../../src/energy/sources/source.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { createTestMetrics, parseSamples, type TestMetrics } from '../../helpers/metrics.js';
import { pipedBlocks } from './gpu-share/fixtures.js';
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
} from './scripted.js';
import { buildPowercapTree, captureLogger, setEnergy, tempDir } from './sources/helpers.js';

interface Rig {
  cs: Carbonscope;
  clock: ScriptedClock;
  cpu: ScriptedCpu;
  timer: ManualTimer;
  metrics: TestMetrics;
  grid: StubGrid;
  lines: Array<Record<string, unknown>>;
}

async function rig(
  sources: { host: PowerSource; gpus?: PowerSource[]; reasons?: string[] },
  env: Record<string, string> = {},
  gpuShares?: GpuShareReader,
  bootClock?: () => number,
): Promise<Rig> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const timer = new ManualTimer();
  const metrics = createTestMetrics();
  const grid = new StubGrid(intensityReading('DE', 400));
  const { logger, lines } = memoryLogger();
  const cs = await Carbonscope.create({
    settings: testConfig(env),
    logger,
    grid,
    sources: { host: sources.host, gpus: sources.gpus ?? [], reasons: sources.reasons },
    clock: clock.now,
    wallClock: () => Date.UTC(2026, 0, 1),
    timer,
    hostCpu: cpu.hostCpu,
    processCpu: cpu.processCpu,
    ...(gpuShares ? { gpuShares } : {}),
    ...(bootClock ? { bootClock } : {}),
  });
  bindMetrics(metrics.meter, cs);
  return { cs, clock, cpu, timer, metrics, grid, lines };
}

/** Starts the meter (baseline set, the first-sample timer armed but never fired): tests sample by hand. */
async function prime(r: Rig): Promise<void> {
  await r.cs.start();
}

function interval(r: Rig, ms: number, hostBusy: number, processCpuSeconds: number): void {
  r.clock.advance(ms);
  r.cpu.interval(ms / 1000, hostBusy, processCpuSeconds);
  r.cs.meter.sampleNow();
}

/**
 * RAPL's one package at 10 W, and `suspend(joules)`: what it counted while the machine slept,
 * added to its next reading as the counter does.
 */
function suspendingPackage(): { source: ScriptedSource; suspend: (joules: number) => void } {
  let asleep = 0;
  const source = new ScriptedSource('rapl', 'host', false, (t) => {
    const joules = (10 * t.elapsedMs) / 1000 + asleep;
    asleep = 0;
    return [{ component: 'package', device: 'package-0', joules, watts: joules }];
  });
  return {
    source,
    suspend: (joules) => {
      asleep = joules;
    },
  };
}

describe('energy meter', () => {
  it('integrates host power and attributes the dynamic share to the process', async () => {
    const r = await rig({ host: constantSource(10) });
    await prime(r);
    // 1 s on 2 CPUs: host 50% busy (1 CPU-s), process 0.25 CPU-s.
    interval(r, 1000, 0.5, 0.25);
    interval(r, 1000, 0.5, 0.25);
    const rapl = { carbonscope_power_source: 'rapl', carbonscope_estimated: 'false' };
    const pkg = { hw_type: 'cpu', hw_id: 'package', ...rapl };
    expect(await r.metrics.value('hw_energy_joules_total', pkg)).to.equal(20);
    expect(
      await r.metrics.value('hw_host_energy_joules_total', { hw_id: 'host', ...rapl }),
    ).to.equal(20);
    // dynamic: 0.25 of the 1 busy CPU-s, of the active half of 10 J = 1.25 J per second.
    expect(await r.metrics.value('carbonscope_process_energy_joules_total', pkg)).to.equal(2.5);
    expect(await r.metrics.value('hw_power_watts', pkg)).to.equal(10);
    expect(await r.metrics.value('hw_host_power_watts', rapl)).to.equal(10);
    expect(await r.metrics.value('carbonscope_process_power_watts', pkg)).to.equal(1.25);
    const snap = r.cs.snapshot();
    expect(snap.totals.process.joules).to.equal(2.5);
    expect(snap.attribution).to.deep.equal({
      mode: 'dynamic',
      processShare: 0.125,
      hostUtilization: 0.5,
    });
    await r.metrics.shutdown();
  });

  it('proportional mode gives the process its busy-time share of all the energy', async () => {
    const r = await rig({ host: constantSource(10) }, { ENERGY_ATTRIBUTION: 'proportional' });
    await prime(r);
    // 0.25 of the 1 busy CPU-s: a quarter of all 10 J, idle power included.
    interval(r, 1000, 0.5, 0.25);
    expect(r.cs.snapshot().totals.process.joules).to.equal(2.5);
    await r.metrics.shutdown();
  });

  it("gives the process no idle power in dynamic mode: the estimate's constant RAM stays on the host", async () => {
    // The estimate: 4 W of CPU and a constant 6 W of RAM, whatever the load.
    const host = new ScriptedSource('estimate', 'host', true, (t) => [
      { component: 'cpu', device: 'cpu', joules: (4 * t.elapsedMs) / 1000, watts: 4 },
      { component: 'ram', device: 'ram', joules: (6 * t.elapsedMs) / 1000, watts: 6, idle: true },
    ]);
    const dynamic = await rig({ host });
    await prime(dynamic);
    // A busy loop: the process is the whole busy host (2 CPUs, one busy).
    interval(dynamic, 1000, 0.5, 1);
    const d = dynamic.cs.snapshot();
    expect(d.totals.host.joules).to.equal(10);
    // Half of the 4 W is active, all of it the process's; none of the RAM.
    expect(d.totals.process.joules).to.equal(2);
    expect(d.power.filter((p) => p.scope === 'process').map((p) => p.component)).to.deep.equal([
      'cpu',
    ]);
    await dynamic.metrics.shutdown();

    // proportional: the process's busy-time share of every joule, the RAM included.
    const proportional = await rig({ host }, { ENERGY_ATTRIBUTION: 'proportional' });
    await prime(proportional);
    interval(proportional, 1000, 0.5, 1);
    const p = proportional.cs.snapshot();
    expect(p.totals.process.joules).to.equal(10);
    expect(p.power.find((f) => f.scope === 'process' && f.component === 'ram')?.joules).to.equal(6);
    await proportional.metrics.shutdown();
  });

  /** TE and EL giving 1 g/s for a whole host: 31,557.6 kg over one 365.25-day year. */
  const ONE_GRAM_PER_SECOND = { EMBODIED_KGCO2E: '31557.6', EMBODIED_LIFETIME_YEARS: '1' };

  it("amortises the reserved share of the host's embodied emissions by time; the process gets its share by the attribution", async () => {
    const env = { ...ONE_GRAM_PER_SECOND, EMBODIED_HOST_VCPUS: '4', EMBODIED_RESERVED_VCPUS: '2' };
    for (const [mode, share] of [
      ['dynamic', 0.125], // 0.25 CPU-s of the host's 2 CPU-s
      ['proportional', 0.25], // 0.25 CPU-s of its 1 busy CPU-s
    ] as const) {
      const r = await rig({ host: constantSource(10) }, { ...env, ENERGY_ATTRIBUTION: mode });
      await prime(r);
      interval(r, 1000, 0.5, 0.25);
      interval(r, 2000, 0.5, 0.5);
      const sample = r.cs.meter.latest();
      // TE / EL × RR / ToR: 1 g/s × 2 / 4, by time whatever the load.
      expect(sample?.hostEmbodiedGrams).to.be.closeTo(1, 1e-12);
      expect(sample?.processEmbodiedGrams).to.be.closeTo(share, 1e-12);
      const snap = r.cs.snapshot();
      expect(snap.totals.host.embodiedGrams).to.be.closeTo(1.5, 1e-12);
      expect(snap.totals.host.embodiedGramsPerSecond).to.be.closeTo(0.5, 1e-12);
      expect(snap.totals.process.embodiedGrams).to.be.closeTo(1.5 * share, 1e-12);
      expect(snap.totals.process.embodiedGramsPerSecond).to.be.closeTo(0.5 * share, 1e-12);
      // Operational emissions are untouched by it.
      expect(snap.totals.host.grams).to.be.closeTo((30 * 400) / 3.6e6, 1e-15);
      expect(snap.embodied).to.deep.include({
        profile: 'server',
        totalKg: 31557.6,
        lifetimeYears: 1,
        hostVcpus: 4,
        reservedVcpus: 2,
        estimated: true,
      });
      expect(snap.embodied?.gramsPerSecond).to.be.closeTo(0.5, 1e-12);
      // Beside the usage emissions, with the phase attribute the LLM impacts use; no zone.
      const embodied = (scope: string) => ({
        carbonscope_scope: scope,
        carbonscope_phase: 'embodied',
        carbonscope_estimated: 'true',
      });
      const total = (name: string, labels: Record<string, string>) => r.metrics.value(name, labels);
      expect(await total('carbonscope_emissions_grams_total', embodied('host'))).to.be.closeTo(
        1.5,
        1e-12,
      );
      expect(
        await total('carbonscope_emission_rate_grams_per_second', embodied('process')),
      ).to.be.closeTo(0.5 * share, 1e-12);
      expect(
        await total('carbonscope_emissions_grams_total', {
          carbonscope_scope: 'host',
          carbonscope_grid_zone: 'DE',
          carbonscope_phase: 'usage',
          carbonscope_estimated: 'false',
        }),
      ).to.be.closeTo((30 * 400) / 3.6e6, 1e-15);
      const text = await r.metrics.scrape();
      const embodiedLines = text.split('\n').filter((l) => l.includes('phase="embodied"'));
      expect(embodiedLines.every((l) => !l.includes('carbonscope_grid_zone'))).to.equal(true);
      await r.metrics.shutdown();
    }
  });

  it("records each operation's usage and embodied emissions in one histogram, by phase", async () => {
    const r = await rig({ host: constantSource(20) }, ONE_GRAM_PER_SECOND);
    await prime(r);
    const op = r.cs.begin('/things/:id', 'request');
    r.clock.advance(1000);
    op.end();
    r.cpu.interval(1, 0.5, 0.5);
    r.cs.meter.sampleNow();
    const footprint = await op.settled();
    const sum = (phase: string, estimated: string) =>
      r.metrics.value('carbonscope_operation_emissions_grams_sum', {
        carbonscope_operation: '/things/:id',
        carbonscope_phase: phase,
        carbonscope_estimated: estimated,
      });
    const count = (phase: string) =>
      r.metrics.value('carbonscope_operation_emissions_grams_count', {
        carbonscope_operation: '/things/:id',
        carbonscope_phase: phase,
      });
    // The whole busy second was the request's: the process's 0.25 g (dynamic share 0.25).
    expect(footprint.embodiedGrams).to.be.closeTo(0.25, 1e-12);
    expect(await sum('embodied', 'true')).to.be.closeTo(footprint.embodiedGrams, 1e-15);
    expect(await sum('usage', 'false')).to.be.closeTo(footprint.grams, 1e-15);
    expect(footprint.grams).to.be.greaterThan(0);
    // One observation per phase: R is either phase's count.
    expect(await count('usage')).to.equal(1);
    expect(await count('embodied')).to.equal(1);
    expect(r.cs.snapshot().operations).to.deep.equal([
      {
        operation: '/things/:id',
        kind: 'request',
        count: 1,
        joules: footprint.joules,
        operationalGrams: footprint.grams,
        embodiedGrams: footprint.embodiedGrams,
        sciGrams: footprint.grams + footprint.embodiedGrams,
        estimated: true,
      },
    ]);
    await r.metrics.shutdown();
  });

  it('leaves embodied emissions out with EMBODIED_KGCO2E=0', async () => {
    const r = await rig({ host: constantSource(10) }, { EMBODIED_KGCO2E: '0' });
    await prime(r);
    interval(r, 1000, 0.5, 0.25);
    const { totals, embodied } = r.cs.snapshot();
    expect([totals.host.embodiedGrams, totals.process.embodiedGrams]).to.deep.equal([0, 0]);
    expect(embodied?.gramsPerSecond).to.equal(0);
    // No embodied series of zeros: the usage ones only.
    const text = await r.metrics.scrape();
    expect(text).to.include('carbonscope_phase="usage"');
    expect(text).to.not.include('carbonscope_phase="embodied"');
    await r.metrics.shutdown();
  });

  it('prices energy at PUE x the intensity valid at each sample, per zone', async () => {
    const r = await rig({ host: constantSource(36) }, { PUE: '1.5' });
    await prime(r);
    interval(r, 1000, 1, 2); // the process is the whole busy host: share 1
    r.grid.reading = intensityReading('FR', 100);
    interval(r, 1000, 1, 2);
    const de = (36 * 1.5 * 400) / 3.6e6;
    const fr = (36 * 1.5 * 100) / 3.6e6;
    const at = (scope: string, zone: string) => ({
      carbonscope_scope: scope,
      carbonscope_grid_zone: zone,
      carbonscope_estimated: 'false',
    });
    expect(
      await r.metrics.value('carbonscope_emissions_grams_total', at('host', 'DE')),
    ).to.be.closeTo(de, 1e-15);
    expect(
      await r.metrics.value('carbonscope_emissions_grams_total', at('process', 'FR')),
    ).to.be.closeTo(fr, 1e-15);
    expect(
      await r.metrics.value('carbonscope_emission_rate_grams_per_second', at('host', 'FR')),
    ).to.be.closeTo(fr, 1e-15);
    expect(
      await r.metrics.value('carbonscope_emission_rate_grams_per_second', at('host', 'DE')),
    ).to.equal(0);
    const snap = r.cs.snapshot();
    expect(snap.totals.host.grams).to.be.closeTo(de + fr, 1e-15);
    expect(snap.grid).to.include({ zone: 'FR', carbonIntensity: 100, source: 'fixed' });
    expect(snap.emissions.map((e) => `${e.scope}:${e.zone}`).sort()).to.deep.equal([
      'host:DE',
      'host:FR',
      'process:DE',
      'process:FR',
    ]);
    await r.metrics.shutdown();
  });

  it('prices operations at the intensity of the latest sample, following a change', async () => {
    const r = await rig({ host: constantSource(36) });
    await prime(r);
    interval(r, 1000, 1, 2); // share 1: the process draws 36 W
    const op = r.cs.begin('op');
    r.clock.advance(1000);
    const atDe = op.end();
    expect(atDe.joules).to.equal(36);
    expect(atDe.grams).to.be.closeTo((36 * 400) / 3.6e6, 1e-15);
    r.grid.reading = intensityReading('DE', 100);
    r.cpu.interval(1, 1, 2);
    r.cs.meter.sampleNow();
    const later = r.cs.begin('op');
    r.clock.advance(1000);
    expect(later.end().grams).to.be.closeTo((36 * 100) / 3.6e6, 1e-15);
    expect(r.grid.currentCalls).to.equal(1); // peek() alone keeps the intensity current
    await r.metrics.shutdown();
  });

  it("charges the process and its operations in an interval shorter than /proc/stat's 10 ms ticks", async () => {
    // stop() samples whenever the application asks: right after a timer sample, /proc/stat
    // often shows no host time at all (half of 3 ms intervals here), while the process's own
    // CPU time, to the microsecond, shows what it did.
    const r = await rig({ host: constantSource(10) });
    await prime(r);
    interval(r, 1000, 0.5, 0.25);
    const op = r.cs.begin('/last', 'request');
    r.clock.advance(3);
    const before = r.cs.snapshot().totals.process.joules;
    r.cpu.host = { activeSeconds: 0, totalSeconds: 0, cpus: 2 };
    r.cpu.processSeconds += 0.002;
    const settled = op.settled();
    op.end();
    await r.cs.stop();
    // 2 ms of the interval's 6 CPU-ms (3 ms on 2 CPUs), of the 10 W source's 30 mJ.
    const processJoules = r.cs.snapshot().totals.process.joules - before;
    expect(processJoules).to.be.closeTo(0.01, 1e-12);
    expect((await settled).joules).to.be.closeTo(processJoules, 1e-12);
    await r.metrics.shutdown();
  });

  it('an interval spanning a suspend: the energy counted, but no power spike and none of it charged to the process', async () => {
    // Linux's monotonic clock stops while suspended (a laptop lid); CLOCK_BOOTTIME does not, and
    // RAPL counted the package's 0.5 W of suspend-to-idle for the hour: 1,800 J more in a tick
    // of 1 s on the monotonic clock.
    const { source: host, suspend } = suspendingPackage();
    const boot = { ms: 5_000 };
    const r = await rig({ host }, {}, undefined, () => boot.ms);
    await prime(r);
    const step = (suspendMs = 0) => {
      boot.ms += 1000 + suspendMs;
      interval(r, 1000, 0.5, 0.25);
    };
    step();
    const op = r.cs.begin('/slow', 'request');
    const settled = op.settled();
    step();
    suspend(1800);
    step(3_600_000);
    const pkg = { hw_type: 'cpu', hw_id: 'package', carbonscope_power_source: 'rapl' };
    // The host drew 10 W while awake: what the power figures go on saying.
    expect(await r.metrics.value('hw_power_watts', pkg)).to.equal(10);
    expect(r.cs.snapshot().totals.host.watts).to.equal(10);
    // 10 W at 400 g/kWh, not 1,810 W.
    expect(r.cs.snapshot().totals.host.gramsPerSecond).to.be.closeTo((10 * 400) / 3.6e6, 1e-12);
    op.end();
    step();
    // The counter's energy is the host's: it was spent.
    expect(await r.metrics.value('hw_energy_joules_total', pkg)).to.equal(1840);
    expect(r.cs.snapshot().totals.host.joules).to.equal(1840);
    // The process ran 4 s at 1.25 W (its dynamic share): the hour frozen is none of its doing.
    expect(r.cs.snapshot().totals.process.joules).to.be.closeTo(5, 1e-9);
    expect((await settled).joules).to.be.closeTo(2.5, 1e-9);
    await r.metrics.shutdown();
  });

  it("a zone's gap recovered on its return (gapJoules): the host's energy, no power spike, none the process's", async () => {
    // RAPL's package back after 3 s unread at 10 W: 40 J on the tick it returns, 30 J of them
    // counted before it. The tick tells the source whether it spanned a suspend (none here).
    let gapJoules = 0;
    const slept: (number | undefined)[] = [];
    const host = new ScriptedSource('rapl', 'host', false, (t) => {
      slept.push(t.suspendedMs);
      const joules = (10 * t.elapsedMs) / 1000 + gapJoules;
      const reading = { component: 'package' as const, device: 'package-0', joules, watts: 10 };
      const out = gapJoules > 0 ? [{ ...reading, gapJoules }] : [reading];
      gapJoules = 0;
      return out;
    });
    const boot = { ms: 5_000 };
    const r = await rig({ host }, {}, undefined, () => boot.ms);
    await prime(r);
    const step = () => {
      boot.ms += 1000;
      interval(r, 1000, 0.5, 0.25);
    };
    step();
    gapJoules = 30;
    step();
    step();
    expect(slept.slice(1)).to.deep.equal([0, 0, 0]);
    const pkg = { hw_type: 'cpu', hw_id: 'package', carbonscope_power_source: 'rapl' };
    expect(await r.metrics.value('hw_power_watts', pkg)).to.equal(10);
    expect(await r.metrics.value('hw_energy_joules_total', pkg)).to.equal(60);
    expect(r.cs.snapshot().totals.host.joules).to.equal(60);
    // 3 s at its dynamic share, 1.25 W: the gap's 30 J were spent by whoever ran then.
    expect(r.cs.snapshot().totals.process.joules).to.be.closeTo(3.75, 1e-9);
    await r.metrics.shutdown();
  });

  it('a RAPL zone away on and off and for ticks in a row: every joule its counter counted in the host totals, hw.energy and emissions alike, none of its gaps in the process', async () => {
    // Two packages, 5 W and 10 W; package-1's counter, 100 W at most, wraps while unread.
    const MAX = 262_143_328_850;
    const { dir, cleanup } = tempDir('rapl-gaps');
    try {
      buildPowercapTree(dir, [
        { dir: 'intel-rapl:0', name: 'package-0', energyUj: 0, maxUj: MAX },
        {
          dir: 'intel-rapl:1',
          name: 'package-1',
          energyUj: MAX - 45_000_000,
          maxUj: MAX,
          maxPowerUw: 100_000_000,
        },
      ]);
      let refused = false;
      const read = (path: string) => {
        if (refused && path.includes('intel-rapl:1/')) throw new Error('EACCES');
        return readFileSync(path, 'latin1');
      };
      const rapl = createRaplSource({ root: dir, logger: captureLogger().logger, read });
      expect((await rapl.probe()).ok).to.equal(true);
      const boot = { ms: 5_000 };
      const r = await rig({ host: rapl }, {}, undefined, () => boot.ms);
      await prime(r);
      const unread = [false, true, false, true, true, true, false, false, true, false, false];
      let pkg0 = 0;
      let pkg1 = MAX - 45_000_000;
      for (const away of unread) {
        pkg0 += 5_000_000;
        pkg1 = (pkg1 + 10_000_000) % MAX;
        setEnergy(dir, 'intel-rapl:0', pkg0);
        setEnergy(dir, 'intel-rapl:1', pkg1);
        refused = away;
        boot.ms += 1000;
        interval(r, 1000, 0.5, 0.25);
      }
      const labels = { hw_type: 'cpu', hw_id: 'package', carbonscope_power_source: 'rapl' };
      const sample = r.cs.meter.latest();
      const totals = r.cs.snapshot().totals.host;
      // 11 s at 15 W, 40 J of them across package-1's wrap.
      expect(totals.joules).to.be.closeTo(165, 1e-9);
      expect(await r.metrics.value('hw_energy_joules_total', labels)).to.be.closeTo(165, 1e-9);
      expect(totals.grams).to.be.closeTo(165 * (sample?.gramsPerJoule ?? Number.NaN), 1e-12);
      const usage = { carbonscope_scope: 'host', carbonscope_phase: 'usage' };
      const grams = await r.metrics.value('carbonscope_emissions_grams_total', usage);
      expect(grams).to.be.closeTo(totals.grams, 1e-12);
      // Its 5 s unread are the host's only: the process takes its share (12.5 %) of the rest.
      expect(r.cs.snapshot().totals.process.joules).to.be.closeTo(0.125 * (165 - 50), 1e-9);
      expect(await r.metrics.value('carbonscope_energy_partial_total', labels)).to.equal(5);
      await r.metrics.shutdown();
    } finally {
      cleanup();
    }
  });

  it('partial intervals are counted per component series, from 0: a Prometheus user sees them', async () => {
    // A RAPL dram zone unreadable for two ticks: 0 J readings marked partial.
    let lost = false;
    const host = new ScriptedSource('rapl', 'host', false, (t) => [
      { component: 'package', device: 'package-0', joules: (10 * t.elapsedMs) / 1000, watts: 10 },
      lost
        ? { component: 'dram', device: 'dram-0', joules: 0, watts: 0, partial: true }
        : { component: 'dram', device: 'dram-0', joules: t.elapsedMs / 1000, watts: 1 },
    ]);
    const r = await rig({ host });
    await prime(r);
    interval(r, 1000, 0.5, 0.25);
    const rapl = { carbonscope_power_source: 'rapl', carbonscope_estimated: 'false' };
    const dram = { hw_type: 'memory', hw_id: 'dram', ...rapl };
    const pkg = { hw_type: 'cpu', hw_id: 'package', ...rapl };
    expect(await r.metrics.value('carbonscope_energy_partial_total', dram)).to.equal(0);
    lost = true;
    interval(r, 1000, 0.5, 0.25);
    interval(r, 1000, 0.5, 0.25);
    lost = false;
    interval(r, 1000, 0.5, 0.25);
    expect(await r.metrics.value('carbonscope_energy_partial_total', dram)).to.equal(2);
    expect(await r.metrics.value('carbonscope_energy_partial_total', pkg)).to.equal(0);
    const figure = r.cs.snapshot().power.find((f) => f.component === 'dram' && f.scope === 'host');
    expect(figure?.partialIntervals).to.equal(2);
    await r.metrics.shutdown();
  });

  it('a GPU source tried again later is no source in use until it reads a GPU', async () => {
    let driverLoaded = false;
    const make = () => {
      const smi = Object.assign(
        constantSource(70, { name: 'nvidia-smi', kind: 'gpu', component: 'gpu' }),
        { devices: () => [{ device: 'gpu0', name: 'NVIDIA L4' }] },
      );
      smi.probe = async () =>
        driverLoaded ? { ok: true, detail: 'gpu0 NVIDIA L4' } : { ok: false, reason: 'no driver' };
      return smi;
    };
    const { logger } = memoryLogger();
    const gpu = withLateGpu({ name: 'nvidia-smi', make, logger, firstRetryMs: 1000 });
    const r = await rig({ host: constantSource(10), gpus: [gpu] });
    await prime(r);
    // Each try settles between ticks, as a probe does in the meter's idle time.
    const step = async (ms: number) => {
      interval(r, ms, 0.5, 0.25);
      await new Promise((resolve) => setImmediate(resolve));
    };
    await step(1000);
    await step(1000);
    const names = () => r.cs.snapshot().sources.map((s) => s.name);
    expect(names()).to.deep.equal(['rapl']);
    const started = r.lines.find((l) => String(l.msg).startsWith('energy meter started'));
    expect(started?.gpus).to.deep.equal([]);
    expect(r.cs.snapshot().totals.host.joules).to.equal(20);
    driverLoaded = true;
    await step(2000);
    await step(1000);
    expect(names()).to.deep.equal(['rapl', 'nvidia-smi']);
    // 5 s of the 10 W host, and the GPU's 70 W for the tick after it was found.
    expect(r.cs.snapshot().totals.host.joules).to.equal(50 + 70);
    await r.metrics.shutdown();
  });

  it("a source's first reading spanning a suspend (RAPL read late): its time awake at the host's power before, not the hour's average", async () => {
    // The estimate covered at 10 W until RAPL could be read; RAPL's first reading then spans an
    // hour's suspend-to-idle. Its own power before is unknown: the hour's average (0.5 W) was
    // taken for the awake second, where the host drew 10 W by every figure there was.
    const { source: rapl, suspend } = suspendingPackage();
    const estimate = constantSource(10, { name: 'estimate', component: 'cpu' });
    const { logger } = memoryLogger();
    const host = withLateStart({ make: () => rapl, fallback: estimate, logger, retryMs: 1000 });
    const boot = { ms: 5_000 };
    const r = await rig({ host }, {}, undefined, () => boot.ms);
    await prime(r);
    const step = (suspendMs = 0) => {
      boot.ms += 1000 + suspendMs;
      interval(r, 1000, 0.5, 0.25);
    };
    step();
    step();
    // The late try's probe settles between ticks.
    await new Promise((resolve) => setImmediate(resolve));
    suspend(1800);
    step(3_600_000);
    expect(host.name).to.equal('rapl');
    const { totals } = r.cs.snapshot();
    expect(totals.host.joules).to.equal(1830);
    expect(totals.host.watts).to.equal(10);
    // Three awake seconds at the process's 1.25 W (dynamic share 0.125 of 10 W).
    expect(totals.process.joules).to.be.closeTo(3.75, 1e-9);
    step();
    expect(r.cs.snapshot().totals.host.watts).to.equal(10);
    await r.metrics.shutdown();
  });

  it('a dram zone first read across a suspend beside a package read before: all its energy on the host, none awake', async () => {
    let suspended = false;
    let dram = false;
    const rapl = new ScriptedSource('rapl', 'host', false, (t) => {
      const awake = t.elapsedMs / 1000;
      const readings: EnergyReading[] = [
        { component: 'package', device: 'package-0', joules: 10 * awake, watts: 10 },
      ];
      if (dram)
        readings.push({
          component: 'dram',
          device: 'dram-0',
          joules: 2 * awake,
          watts: 2,
        });
      if (suspended) {
        readings[0].joules += 1800;
        if (readings[1]) readings[1].joules += 360;
      }
      return readings;
    });
    const boot = { ms: 5_000 };
    const r = await rig({ host: rapl }, {}, undefined, () => boot.ms);
    await prime(r);
    boot.ms += 1000;
    interval(r, 1000, 0.5, 0.25);
    dram = true;
    suspended = true;
    boot.ms += 1000 + 3_600_000;
    interval(r, 1000, 0.5, 0.25);
    const { totals, power } = r.cs.snapshot();
    // Every joule read stays on the host: 10 + (10 + 1800) + (2 + 360).
    expect(totals.host.joules).to.equal(2182);
    // The package keeps its 10 W awake; the dram, with no power before, takes what is left: none.
    expect(totals.host.watts).to.equal(10);
    const dramPower = power.find((p) => p.scope === 'host' && p.component === 'dram');
    expect(dramPower?.watts).to.equal(0);
    // Two awake seconds of the package at the process's 1.25 W.
    expect(totals.process.joules).to.be.closeTo(2.5, 1e-9);
    await r.metrics.shutdown();
  });

  it('an interval spanning a suspend on two packages: their time awake is counted once, not once a package', async () => {
    // Two sockets at 10 W each: one series (host|package|rapl) at 20 W, read as two readings.
    let suspendedJoules = 0;
    const host = new ScriptedSource('rapl', 'host', false, (t) =>
      ['package-0', 'package-1'].map((device) => {
        const joules = (10 * t.elapsedMs) / 1000 + suspendedJoules;
        return { component: 'package' as const, device, joules, watts: joules };
      }),
    );
    const boot = { ms: 5_000 };
    const r = await rig({ host }, {}, undefined, () => boot.ms);
    await prime(r);
    const step = (suspendMs = 0) => {
      boot.ms += 1000 + suspendMs;
      interval(r, 1000, 0.5, 0.25);
    };
    step();
    suspendedJoules = 900;
    step(3_600_000);
    suspendedJoules = 0;
    const { totals } = r.cs.snapshot();
    expect(totals.host.joules).to.equal(1840);
    // 20 W awake, not 40 W: each package's awake part is not the whole series' power.
    expect(totals.host.watts).to.equal(20);
    // 2 s at the process's 2.5 W.
    expect(totals.process.joules).to.be.closeTo(5, 1e-9);
    await r.metrics.shutdown();
  });

  it("an interval spanning a suspend keeps a GPU's reading whole: nvidia-smi's power lines are read on the monotonic clock", async () => {
    const boot = { ms: 5_000 };
    let gpuWatts = 77;
    const gpu = new ScriptedSource('nvidia-smi', 'gpu', false, (t) => [
      {
        component: 'gpu',
        device: 'gpu0',
        joules: (gpuWatts * t.elapsedMs) / 1000,
        watts: gpuWatts,
      },
    ]);
    const r = await rig({ host: constantSource(10), gpus: [gpu] }, {}, undefined, () => boot.ms);
    await prime(r);
    boot.ms += 1000;
    interval(r, 1000, 0.5, 0.25);
    // A load starts in the second awake after an hour suspended.
    gpuWatts = 690;
    boot.ms += 3_601_000;
    interval(r, 1000, 0.5, 0.25);
    const gpuSeries = r.cs.snapshot().power.find((p) => p.component === 'gpu');
    expect(gpuSeries?.watts).to.equal(690);
    expect(gpuSeries?.joules).to.equal(767);
    await r.metrics.shutdown();
  });

  it("an interval spanning a suspend keeps an exporter's host reading whole: its gauge is read over the monotonic clock", async () => {
    const boot = { ms: 5_000 };
    let nodeWatts = 10;
    // Scaphandre's host power is a gauge: watts over the tick's monotonic time, all awake.
    const exporter = Object.assign(
      new ScriptedSource('scaphandre', 'host', false, (t) => [
        {
          scope: 'host',
          component: 'package',
          device: 'host',
          joules: (nodeWatts * t.elapsedMs) / 1000,
          watts: nodeWatts,
        },
        {
          scope: 'process',
          component: 'package',
          device: 'process',
          joules: t.elapsedMs / 1000,
          watts: 1,
        },
      ]),
      { scope: 'process' as const },
    );
    const r = await rig({ host: exporter }, {}, undefined, () => boot.ms);
    await prime(r);
    boot.ms += 1000;
    interval(r, 1000, 0.5, 0.25);
    // A load starts in the second awake after an hour suspended.
    nodeWatts = 30;
    boot.ms += 3_601_000;
    interval(r, 1000, 0.5, 0.25);
    const { totals } = r.cs.snapshot();
    expect(totals.host.joules).to.equal(40);
    expect(totals.host.watts).to.equal(30);
    expect(totals.host.gramsPerSecond).to.be.closeTo((30 * 400) / 3.6e6, 1e-12);
    await r.metrics.shutdown();
  });

  it('takes no suspend from a boot clock in whole seconds (os.uptime() without /proc/uptime) read a little late', async () => {
    // Node falls back to CLOCK_BOOTTIME's whole seconds where /proc/uptime cannot be read. Read
    // 20 µs later after the monotonic clock in one tick than in the one before (a GC, a
    // preemption), a second's interval 5 µs short crosses two whole seconds of it.
    let watts = 10;
    const host = new ScriptedSource('rapl', 'host', false, (t) => {
      const joules = (watts * t.elapsedMs) / 1000;
      return [{ component: 'package', device: 'package-0', joules, watts }];
    });
    const late = { ms: 0 };
    const r = await rig({ host }, {}, undefined, () => {
      return Math.floor((r.clock.ms - 4_000.01 + late.ms) / 1000) * 1000;
    });
    await prime(r);
    interval(r, 1000, 0.5, 0.25);
    watts = 30;
    late.ms = 0.02;
    interval(r, 999.995, 0.5, 0.25);
    expect(r.cs.snapshot().totals.host.watts).to.be.closeTo(30, 1e-9);
  });

  it("an interval spanning a suspend still drops a GPU's implausible reading: it is over the time awake", async () => {
    const boot = { ms: 5_000 };
    let gpuJoules = 77;
    const gpu = new ScriptedSource('nvidia-smi', 'gpu', false, () => [
      { component: 'gpu', device: 'gpu0', joules: gpuJoules, watts: gpuJoules },
    ]);
    const r = await rig({ host: constantSource(10), gpus: [gpu] }, {}, undefined, () => boot.ms);
    await prime(r);
    boot.ms += 1000;
    interval(r, 1000, 0.5, 0.25);
    // A glitch of 200 kJ in the 1 s awake after an hour suspended: 200 kW, not 56 W.
    gpuJoules = 200_000;
    boot.ms += 3_601_000;
    interval(r, 1000, 0.5, 0.25);
    const { droppedReadings, power } = r.cs.snapshot();
    expect(droppedReadings).to.equal(1);
    expect(power.find((p) => p.component === 'gpu')?.joules).to.equal(77);
    await r.metrics.shutdown();
  });

  it('an interval spanning a suspend on the estimate: the model counts the time awake only', async () => {
    const boot = { ms: 5_000 };
    const host = constantSource(8, { name: 'estimate', component: 'cpu' });
    const r = await rig({ host }, {}, undefined, () => boot.ms);
    await prime(r);
    boot.ms += 3_601_000;
    interval(r, 1000, 0.5, 0.25);
    const { totals } = r.cs.snapshot();
    // Not an hour of idle power for a process that was frozen, nor for the suspended host.
    expect(totals.host.joules).to.equal(8);
    expect(totals.host.watts).to.equal(8);
    expect(totals.process.joules).to.equal(1);
    await r.metrics.shutdown();
  });

  it('a sample timer 30 s late (a blocked loop) gives one interval of 30 s, charged to the operation that blocked it', async () => {
    const r = await rig({ host: constantSource(10) });
    await prime(r);
    const seen: number[] = [];
    r.cs.meter.onSample((sample) => seen.push(sample.elapsedMs));
    interval(r, 1000, 0.5, 0.25);
    const blocking = r.cs.begin('blocking');
    const blocked = blocking.settled();
    r.clock.advance(30_000); // the loop is busy in it: no timer fires
    blocking.end();
    const next = r.cs.begin('next');
    const after = next.settled();
    r.clock.advance(10);
    // The timer fires once when the loop is free again (setInterval does not catch up).
    r.cpu.interval(30.01, 0.5, 30.01 * 0.5 * 2);
    r.timer.fire();
    next.end();
    interval(r, 1000, 0.5, 0.25);
    expect(seen.slice(0, 2)).to.deep.equal([1000, 30_010]);
    const processJoules = 10 * 30.01 * 0.5; // dynamic: all of the busy half is the process's
    expect((await blocked).joules).to.be.closeTo((processJoules * 30_000) / 30_010, 1e-9);
    expect((await after).joules).to.be.closeTo((processJoules * 10) / 30_010, 1e-2);
    await r.metrics.shutdown();
  });

  it('drops NaN, negative, infinite and implausible readings; counters never decrease', async () => {
    const script: number[] = [5, Number.NaN, -3, Number.POSITIVE_INFINITY, 1e9, 7];
    const host = new ScriptedSource('rapl', 'host', false, () => {
      const joules = script.shift() ?? 0;
      return [{ component: 'package', device: 'package-0', joules, watts: joules }];
    });
    const r = await rig({ host });
    await prime(r); // consumes the 5: priming discards what came before the window
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      interval(r, 1000, 0.5, 0.1);
      seen.push((await r.metrics.value('hw_host_energy_joules_total')) ?? 0);
    }
    expect(seen).to.deep.equal([0, 0, 0, 0, 7]);
    expect(r.cs.snapshot().droppedReadings).to.equal(4);
    await r.metrics.shutdown();
  });

  it('keeps GPU energy on the host and labels estimated figures', async () => {
    const r = await rig({
      host: constantSource(10, { name: 'estimate', component: 'cpu' }),
      gpus: [constantSource(50, { name: 'nvidia-smi', kind: 'gpu', component: 'gpu' })],
      reasons: ['rapl: no powercap tree', 'estimate: linear model'],
    });
    await prime(r);
    interval(r, 1000, 1, 2);
    const snap = r.cs.snapshot();
    expect(snap.totals.host).to.include({ joules: 60, estimated: true });
    expect(snap.totals.process).to.include({ joules: 10, estimated: true });
    expect(snap.power).to.deep.include({
      scope: 'host',
      component: 'gpu',
      source: 'nvidia-smi',
      estimated: false,
      watts: 50,
      joules: 50,
    });
    expect(snap.power.filter((p) => p.scope === 'process').map((p) => p.component)).to.deep.equal([
      'cpu',
    ]);
    expect(snap.sources).to.deep.equal([
      { name: 'estimate', kind: 'host', estimated: true },
      { name: 'nvidia-smi', kind: 'gpu', estimated: false },
    ]);
    expect(snap.reasons).to.have.length(2);
    await r.metrics.shutdown();
  });

  it('gives the process its GPU share by SM utilization where nvidia-smi pmon is read (run)', async () => {
    const clock = { ms: 0 };
    const shares = new PmonShares({
      isCommand: (pid) => pid === 574,
      pidExists: () => true,
      clock: () => clock.ms,
    });
    const r = await rig(
      {
        host: constantSource(10, { name: 'estimate', component: 'cpu' }),
        gpus: [constantSource(500, { name: 'nvidia-smi', kind: 'gpu', component: 'gpu' })],
      },
      {},
      shares,
    );
    let pmonStopped = false;
    shares.begin(async () => {
      pmonStopped = true;
    });
    await prime(r);
    // The H200 capture's pmon samples, one per 1 s interval: pid 574 is the command.
    const parser = new PmonParser();
    for (const block of pipedBlocks('pmon-piped.txt')) {
      for (const line of block) {
        const row = parser.line(line);
        if (row) shares.add(row);
      }
      interval(r, 1000, 1, 2);
    }
    const snap = r.cs.snapshot();
    const gpu = snap.power.find((p) => p.scope === 'process' && p.component === 'gpu');
    const share = 1 + 74 / 98 + 86 / 98 + 1 + 1;
    expect(gpu).to.include({ source: 'nvidia-smi', estimated: false });
    expect(gpu?.joules).to.be.closeTo(500 * share, 1e-9);
    expect(snap.totals.process.joules).to.be.closeTo(5 * 10 + 500 * share, 1e-9);
    expect(snap.totals.host.joules).to.equal(5 * 510);
    // Its emissions are those of measured energy; the CPU's, of the estimate's.
    const grams = (joules: number) => (joules * 400) / 3.6e6;
    const emissions = (estimated: boolean) =>
      snap.emissions.find((e) => e.scope === 'process' && e.estimated === estimated)?.grams;
    expect(emissions(false)).to.be.closeTo(grams(500 * share), 1e-12);
    expect(emissions(true)).to.be.closeTo(grams(50), 1e-12);
    await r.cs.stop();
    expect(pmonStopped, 'pmon stopped with the meter').to.equal(true);
    await r.metrics.shutdown();
  });

  it('says of every energy and emissions series whether a meter or a model gave it', async () => {
    const r = await rig({
      host: constantSource(10, { name: 'estimate', component: 'cpu' }),
      gpus: [constantSource(50, { name: 'nvidia-smi', kind: 'gpu', component: 'gpu' })],
    });
    await prime(r);
    interval(r, 1000, 1, 2); // the process is the whole busy host: share 1
    const model = { carbonscope_power_source: 'estimate', carbonscope_estimated: 'true' };
    const meter = { carbonscope_power_source: 'nvidia-smi', carbonscope_estimated: 'false' };
    // The host is one series per source, so a flag never changes on a series.
    expect(await r.metrics.value('hw_host_energy_joules_total', model)).to.equal(10);
    expect(await r.metrics.value('hw_host_energy_joules_total', meter)).to.equal(50);
    expect(
      await r.metrics.value('hw_energy_joules_total', { hw_type: 'cpu', hw_id: 'cpu', ...model }),
    ).to.equal(10);
    expect(
      await r.metrics.value('hw_power_watts', { hw_type: 'gpu', hw_id: 'gpu', ...meter }),
    ).to.equal(50);
    // Emissions of measured and of estimated energy are separate series; together, the total.
    const grams = (joules: number) => (joules * 400) / 3.6e6;
    const emissions = (scope: string, estimated: string) =>
      r.metrics.value('carbonscope_emissions_grams_total', {
        carbonscope_scope: scope,
        carbonscope_grid_zone: 'DE',
        carbonscope_estimated: estimated,
      });
    expect(await emissions('host', 'false')).to.be.closeTo(grams(50), 1e-15);
    expect(await emissions('host', 'true')).to.be.closeTo(grams(10), 1e-15);
    expect(await emissions('process', 'true')).to.be.closeTo(grams(10), 1e-15);
    expect(await emissions('process', 'false')).to.equal(undefined);
    expect(r.cs.snapshot().totals.host.grams).to.be.closeTo(grams(60), 1e-15);
    await r.metrics.shutdown();
  });

  it("keeps a host source's GPU readings (powermetrics on Apple Silicon) off the process", async () => {
    const host = new ScriptedSource('powermetrics', 'host', false, (t) => [
      { component: 'cpu', device: 'cpu', joules: (8 * t.elapsedMs) / 1000, watts: 8 },
      { component: 'gpu', device: 'gpu', joules: (30 * t.elapsedMs) / 1000, watts: 30 },
    ]);
    const r = await rig({ host });
    await prime(r);
    interval(r, 1000, 1, 2); // the process is the whole busy host: share 1
    const snap = r.cs.snapshot();
    expect(snap.attribution.processShare).to.equal(1);
    expect(snap.totals.host.joules).to.equal(38);
    expect(snap.totals.process.joules).to.equal(8);
    expect(snap.power.filter((p) => p.scope === 'process').map((p) => p.component)).to.deep.equal([
      'cpu',
    ]);
    expect(
      await r.metrics.value('carbonscope_process_energy_joules_total', { hw_type: 'gpu' }),
    ).to.equal(undefined);
    await r.metrics.shutdown();
  });

  it('hands every source the elapsed time and the host CPU delta of the tick', async () => {
    const host = constantSource(1);
    const r = await rig({ host });
    await prime(r);
    interval(r, 250, 0.5, 0);
    const tick = host.ticks.at(-1);
    expect(tick).to.deep.equal({
      nowMs: 10_250,
      elapsedMs: 250,
      hostCpu: { activeSeconds: 0.25, totalSeconds: 0.5, cpus: 2 },
    });
    expect(r.cs.meter.sampleNow()).to.equal(null); // no time passed: no sample
    await r.metrics.shutdown();
  });

  it("host CPU time unread (/proc subset=pid): the process's is the floor of the host's busy time, said once", async () => {
    const host = constantSource(10, { name: 'estimate' });
    const r = await rig({ host });
    await prime(r);
    const unread = 'cannot read /proc/stat (ENOENT) and os.cpus() lists no CPU';
    r.cpu.host = { activeSeconds: 0, totalSeconds: 0, cpus: 2, unread };
    r.clock.advance(1000);
    r.cpu.processSeconds += 1.5;
    const sample = r.cs.meter.sampleNow();
    // The source models its power from this: 1.5 busy CPU-s of 2 CPUs over 1 s, not an idle host.
    expect(host.ticks.at(-1)?.hostCpu).to.deep.equal({
      activeSeconds: 1.5,
      totalSeconds: 2,
      cpus: 2,
      unread,
    });
    // dynamic: all of the busy time is the process's, 75 % of the host's capacity.
    expect(sample?.processJoules).to.be.closeTo(7.5, 1e-9);
    r.clock.advance(1000);
    r.cpu.processSeconds += 0.5;
    r.cs.meter.sampleNow();
    const warnings = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include(unread);
    expect(warnings[0]).to.include(
      "the host's busy CPU time is taken as the measured process's own, a floor",
    );
    await r.metrics.shutdown();
  });

  // A reader that threw gave an all-zero delta: a 0 %-busy host, counted as read (its ms in
  // hostCpuReadMs, HostCpuMean weighing it), an idle host's power, and the process charged nothing.
  it('a host CPU reader that throws: that interval is unread (the floor), said once', async () => {
    const host = constantSource(10, { name: 'estimate' });
    const r = await rig({ host });
    await prime(r);
    let failures = 0;
    const secret = 'token=s3cr3t-0123456789';
    // Its reader reads `host` at each call: each read throws from here, with another message.
    Object.defineProperty(r.cpu, 'host', {
      get: () => {
        failures += 1;
        throw new Error(`proc gone #${failures}\n    at reader (${secret})`);
      },
    });
    const sampleThrowing = (processSeconds: number) => {
      r.clock.advance(1000);
      r.cpu.processSeconds += processSeconds;
      return r.cs.meter.sampleNow();
    };
    const first = sampleThrowing(1.5);
    expect(host.ticks.at(-1)?.hostCpu).to.include({ activeSeconds: 1.5, totalSeconds: 2, cpus: 2 });
    expect(first?.hostCpuReadMs).to.equal(0);
    expect(first?.processJoules).to.be.closeTo(7.5, 1e-9);
    sampleThrowing(0.5);
    expect(r.cs.snapshot().attribution.hostCpuStandIns?.intervals).to.equal(2);
    const warnings = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(warnings).to.deep.equal([
      'energy meter: the host CPU reader failed (proc gone #1): ' +
        "the host's busy CPU time is taken as the measured process's own, a floor (the rest of " +
        'the machine is not seen)',
    ]);
    await r.metrics.shutdown();
  });

  // String() of a thrown value with no prototype throws itself: out of the sample, which was lost.
  it('a host CPU reader that throws what has no text: unread all the same, no throw', async () => {
    const r = await rig({ host: constantSource(10, { name: 'estimate' }) });
    await prime(r);
    Object.defineProperty(r.cpu, 'host', {
      get: () => {
        throw Object.create(null);
      },
    });
    r.clock.advance(1000);
    r.cpu.processSeconds += 0.5;
    const sample = r.cs.meter.sampleNow();
    expect(sample?.hostCpuReadMs).to.equal(0);
    const warnings = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('the host CPU reader failed (');
    await r.metrics.shutdown();
  });

  // What HostCpuReader's doc tells a reader of one's own: its next delta that returns is taken
  // to hold the CPU time of the intervals its throws left unread, as the reader made here does.
  it("a host CPU reader's read after throws covers the time since its last read", async () => {
    const r = await rig({ host: constantSource(10, { name: 'estimate' }) });
    await prime(r);
    let throwing = true;
    // Three 1 s intervals on 2 CPUs, half of it busy.
    const gap: HostCpuDelta = { activeSeconds: 3, totalSeconds: 6, cpus: 2 };
    Object.defineProperty(r.cpu, 'host', {
      get: () => {
        if (throwing) throw new Error('proc gone');
        return gap;
      },
    });
    const reads: Array<[readMs?: number, busy?: number]> = [];
    for (const last of [false, false, true]) {
      throwing = !last;
      r.clock.advance(1000);
      const sample = r.cs.meter.sampleNow();
      reads.push([sample?.hostCpuReadMs, last ? sample?.hostUtilization : undefined]);
    }
    expect(reads).to.deep.equal([
      [0, undefined],
      [0, undefined],
      [3000, 0.5],
    ]);
    await r.metrics.shutdown();
  });

  // The wording came from a wholeMachine option threaded through five layers: the reader that
  // measures no process says it now, and nothing else does.
  it('host CPU time unread with no process measured (monitor): an idle host, said so', async () => {
    const clock = new ScriptedClock(10_000);
    const { logger, lines } = memoryLogger();
    const host = constantSource(10, { name: 'estimate' });
    const unread = 'cannot read /proc/stat (ENOENT) and os.cpus() lists no CPU';
    const cs = await Carbonscope.create({
      settings: testConfig(),
      logger,
      grid: new StubGrid(intensityReading('DE', 400)),
      sources: { host, gpus: [] },
      clock: clock.now,
      timer: new ManualTimer(),
      hostCpu: () => ({ activeSeconds: 0, totalSeconds: 0, cpus: 2, unread }),
      processCpu: NO_PROCESS_CPU,
    });
    await cs.start();
    clock.advance(1000);
    cs.meter.sampleNow();
    expect(host.ticks.at(-1)?.hostCpu).to.include({ activeSeconds: 0, totalSeconds: 2 });
    const warnings = lines.map((l) => String(l.msg)).filter((msg) => msg.includes(unread));
    expect(warnings).to.deep.equal([
      `energy meter: ${unread}: no process is measured, so the host's CPU is taken as idle: an ` +
        'estimated CPU power is its idle one, a floor (the load of the machine is not seen)',
    ]);
    await cs.stop();
  });

  it('survives a failing source and a process CPU reader that goes down, logging once', async () => {
    let fail = false;
    const host = new ScriptedSource('rapl', 'host', false, (t) => {
      if (fail) throw new Error('energy_uj vanished');
      return [{ component: 'package', device: 'package-0', joules: t.elapsedMs / 1000, watts: 1 }];
    });
    const r = await rig({ host });
    await prime(r);
    interval(r, 1000, 1, 2);
    fail = true;
    interval(r, 1000, 1, 2);
    interval(r, 1000, 1, 2);
    fail = false;
    r.cpu.processSeconds -= 10; // a child left the measured tree
    interval(r, 1000, 1, 0);
    const snap = r.cs.snapshot();
    expect(snap.totals.host.joules).to.equal(2);
    expect(snap.totals.process.joules).to.equal(1);
    const warnings = r.lines.filter((l) => l.level === 40);
    expect(warnings).to.have.length(1);
    expect(warnings[0].err).to.equal('energy_uj vanished');
    // The stderr logger prints the message alone: the reason must be in it.
    expect(String(warnings[0].msg)).to.include('energy_uj vanished');
    await r.metrics.shutdown();
  });

  it('conserves energy and embodied emissions: overlapping operations open across samples add up to the process figures (1%)', async () => {
    const r = await rig({ host: constantSource(20) }, ONE_GRAM_PER_SECOND);
    await prime(r);
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    type Open = { op: ReturnType<typeof r.cs.begin>; samples: number };
    // One to three operations are open at every moment, so together they cover the window.
    const open: Open[] = [{ op: r.cs.begin('op'), samples: 0 }];
    let sum = 0;
    let embodied = 0;
    r.cs.onEnd((f) => {
      sum += f.joules;
      embodied += f.embodiedGrams;
    });
    let busyMs = 0;
    let maxOpen = 1;
    let maxSamplesSpanned = 0;
    const endOne = () => {
      const [ended] = open.splice(Math.floor(random() * open.length), 1);
      maxSamplesSpanned = Math.max(maxSamplesSpanned, ended.samples);
      ended.op.end();
    };
    for (let s = 0; s < 300; s++) {
      for (let k = 0; k < 10; k++) {
        r.clock.advance(100);
        busyMs += 100 * open.length;
        const x = random();
        if (x < 0.2 && open.length < 3) open.push({ op: r.cs.begin('op'), samples: 0 });
        else if (x > 0.8 && open.length > 1) endOne();
        maxOpen = Math.max(maxOpen, open.length);
      }
      r.cpu.interval(1, 0.5, 0.2 + random() * 0.6); // process power varies every interval
      r.cs.meter.sampleNow();
      for (const o of open) o.samples++;
    }
    // The last ones end with the last sample, which settles them.
    while (open.length > 0) endOne();
    interval(r, 1, 0.5, 0);
    const { process } = r.cs.snapshot().totals;
    const processJoules = process.joules;
    // The operations really overlapped and lived across sample boundaries.
    expect(maxOpen).to.equal(3);
    expect(maxSamplesSpanned).to.be.at.least(3);
    expect(busyMs / 300_000).to.be.greaterThan(1.5);
    expect(processJoules).to.be.greaterThan(100);
    expect(Math.abs(sum - processJoules) / processJoules).to.be.lessThan(0.01);
    // Σ embodied over the operations: the process's embodied share over the window (1 %).
    expect(process.embodiedGrams).to.be.greaterThan(50);
    expect(embodied).to.be.at.most(process.embodiedGrams * (1 + 1e-12));
    expect(Math.abs(embodied - process.embodiedGrams) / process.embodiedGrams).to.be.lessThan(0.01);
    await r.metrics.shutdown();
  });

  it('operations covering part of the window get at most the process energy and embodied emissions', async () => {
    const r = await rig({ host: constantSource(20) }, ONE_GRAM_PER_SECOND);
    await prime(r);
    let sum = 0;
    let embodied = 0;
    r.cs.onEnd((f) => {
      sum += f.joules;
      embodied += f.embodiedGrams;
    });
    for (let s = 0; s < 100; s++) {
      const op = r.cs.begin('half');
      r.clock.advance(500);
      op.end();
      r.clock.advance(500);
      r.cpu.interval(1, 0.5, 0.5);
      r.cs.meter.sampleNow();
    }
    const processJoules = r.cs.snapshot().totals.process.joules;
    expect(sum).to.be.lessThan(processJoules);
    // The loop was busy all along, half of it with the operation: exactly half, the first
    // interval's too (settled against it, not priced before any power was known).
    expect(sum).to.be.closeTo(processJoules / 2, 1e-9);
    const processEmbodied = r.cs.snapshot().totals.process.embodiedGrams;
    expect(processEmbodied).to.be.greaterThan(20);
    expect(embodied).to.be.lessThan(processEmbodied);
    expect(embodied).to.be.closeTo(processEmbodied / 2, 1e-9);
    await r.metrics.shutdown();
  });

  it('warns once per operation name dropped from sharing, and counts every drop in the snapshot', async () => {
    const r = await rig({ host: constantSource(10) }, { ENERGY_OPERATION_MAX_AGE_MS: '2000' });
    await prime(r);
    // Begun and never ended: two of one name, one of another.
    r.cs.begin('leaky');
    r.cs.begin('leaky');
    r.cs.begin('forgotten');
    const ok = r.cs.begin('ok');
    interval(r, 1000, 0.5, 0.5);
    ok.end();
    interval(r, 1000, 0.5, 0.5); // 2 s old now: dropped
    interval(r, 1000, 0.5, 0.5);
    const warnings = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    const about = (name: string) => warnings.filter((w) => w.includes(`"${name}"`));
    expect(about('leaky')).to.have.length(1);
    expect(about('forgotten')).to.have.length(1);
    expect(about('ok')).to.have.length(0);
    expect(about('leaky')[0]).to.include('ENERGY_OPERATION_MAX_AGE_MS').and.include('end()');
    expect(r.cs.snapshot().droppedOperations).to.equal(3);
    expect(r.cs.tracker.active).to.equal(0);
  });

  it('tells a request still open (a long-lived stream) from an operation whose end() was forgotten', async () => {
    const r = await rig({ host: constantSource(10) }, { ENERGY_OPERATION_MAX_AGE_MS: '1000' });
    await prime(r);
    r.cs.begin('GET /events', 'request');
    interval(r, 1000, 0.5, 0.5); // 1 s old now: dropped
    const [warning] = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    // A request ends when its response does: no begin() or end() of the user's to blame.
    expect(warning).to.include('"GET /events"').and.include('still open');
    expect(warning).not.to.include('begin()');
    expect(warning).to.include('ENERGY_OPERATION_MAX_AGE_MS');
  });

  it('names a hung request no route named as its end will: unmatched, in the warning and the count', async () => {
    const r = await rig({ host: constantSource(10) }, { ENERGY_OPERATION_MAX_AGE_MS: '1000' });
    await prime(r);
    r.cs.trackRequests();
    let hung: ServerResponse | undefined;
    const server = createServer((_req, res) => {
      hung = res;
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client = fetch(`http://127.0.0.1:${port}/anything`).then((res) => res.arrayBuffer());
    try {
      while (!hung) await new Promise((resolve) => setTimeout(resolve, 5));
      const ended: OperationFootprint[] = [];
      r.cs.tracker.onEnd((f) => ended.push(f));
      interval(r, 1000, 0.5, 0.5); // 1 s old now: dropped
      const [warning] = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
      expect(warning).to.include('request "unmatched"');
      const dropped = await r.metrics.value('carbonscope_operation_dropped_total', {
        carbonscope_operation: 'unmatched',
        carbonscope_operation_kind: 'request',
        carbonscope_drop_reason: 'age',
      });
      expect(dropped).to.equal(1);
      hung.end('late');
      await client;
      expect(ended.map((f) => f.operation)).to.deep.equal(['unmatched']);
    } finally {
      hung?.end();
      r.cs.untrackRequests();
      server.close();
      await r.metrics.shutdown();
    }
  });

  it("tells that an operation of track() ends when its promise settles, not at an end() of one's own", async () => {
    const r = await rig({ host: constantSource(10) }, { ENERGY_OPERATION_MAX_AGE_MS: '1000' });
    await prime(r);
    void r.cs.track('never-settles', () => new Promise<void>(() => {}));
    interval(r, 1000, 0.5, 0.5); // 1 s old now: dropped
    const [warning] = r.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    expect(warning).to.include('"never-settles"').and.include('track()');
    expect(warning).to.match(/never settles/);
  });

  it('counts drops in carbonscope.operation.dropped by name and kind, names bounded as operations are', async () => {
    const r = await rig(
      { host: constantSource(10) },
      { ENERGY_OPERATION_MAX_AGE_MS: '1000', ENERGY_OPERATION_MAX_NAMES: '64' },
    );
    await prime(r);
    const dropped = 'carbonscope_operation_dropped_total';
    const ok = r.cs.begin('ok');
    interval(r, 500, 0.5, 0.5);
    ok.end();
    interval(r, 500, 0.5, 0.5);
    // No drop, no series: an alert on it fires on a leak only.
    const series = async () =>
      parseSamples(await r.metrics.scrape()).filter((s) => s.name === dropped);
    expect(await series()).to.deep.equal([]);
    r.cs.begin('leaky');
    r.cs.begin('leaky');
    r.cs.begin('GET /stuck', 'request');
    // More names than the label keeps: the first 64 are theirs (`ok`, which ended, one of them:
    // the operation metrics' set is the same), the rest `other`.
    for (let i = 0; i < 64; i++) r.cs.begin(`leak-${i}`);
    interval(r, 1000, 0.5, 0.5); // 1 s old now: dropped
    const count = (operation: string, kind: string) =>
      r.metrics.value(dropped, {
        carbonscope_operation: operation,
        carbonscope_operation_kind: kind,
        carbonscope_drop_reason: 'age',
      });
    expect(await count('leaky', 'operation')).to.equal(2);
    expect(await count('GET /stuck', 'request')).to.equal(1);
    expect(await count('GET /stuck', 'operation')).to.equal(undefined);
    expect(await count('leak-0', 'operation')).to.equal(1);
    expect(await count('leak-60', 'operation')).to.equal(1);
    expect(await count('leak-61', 'operation')).to.equal(undefined);
    expect(await count('other', 'operation')).to.equal(3);
    const all = await series();
    // leaky, GET /stuck, leak-0 to leak-60, other.
    expect(all).to.have.length(64);
    expect(all.reduce((sum, s) => sum + s.value, 0)).to.equal(r.cs.snapshot().droppedOperations);
    await r.metrics.shutdown();
  });

  it('tells drops of the too old from drops beyond MAX_RUNNING in carbonscope.drop_reason', async () => {
    const r = await rig({ host: constantSource(10) }, { ENERGY_OPERATION_MAX_AGE_MS: '1000' });
    await prime(r);
    const dropped = 'carbonscope_operation_dropped_total';
    const count = (operation: string, reason: string) =>
      r.metrics.value(dropped, {
        carbonscope_operation: operation,
        carbonscope_operation_kind: 'operation',
        carbonscope_drop_reason: reason,
      });
    // A burst: one more than may run at once drops the oldest, the first begun.
    r.cs.begin('burst-first');
    for (let i = 1; i <= MAX_RUNNING; i++) r.cs.begin('burst');
    expect(await count('burst-first', 'running')).to.equal(1);
    // A leak: the rest outlive ENERGY_OPERATION_MAX_AGE_MS.
    interval(r, 1000, 0.5, 0.5);
    expect(await count('burst', 'age')).to.equal(MAX_RUNNING);
    expect(await count('burst', 'running')).to.equal(undefined);
    expect(await count('burst-first', 'age')).to.equal(undefined);
    await r.metrics.shutdown();
  });

  it('measure() settles at once when the interval has run long enough, else at the next sample', async () => {
    const r = await rig({ host: constantSource(20) });
    await prime(r);
    interval(r, 1000, 0.5, 0.5);
    const samples = r.cs.snapshot().samples;
    // 500 ms since the last sample: measure() samples when the job is done, and resolves with
    // the job's settled share of that interval.
    r.cpu.interval(0.5, 0.5, 0.25);
    const { result, footprint } = await r.cs.measure('job', () => {
      r.clock.advance(500);
      return 'done';
    });
    expect(result).to.equal('done');
    expect(r.cs.snapshot().samples).to.equal(samples + 1);
    expect(footprint).to.include({ operation: 'job', provisional: false });
    expect(footprint.joules).to.be.closeTo(r.cs.meter.latest()?.processJoules ?? 0, 1e-12);

    // 10 ms after it: too short an interval to measure; the next regular sample settles it.
    let settled = false;
    const measured = r.cs
      .measure('short', () => {
        r.clock.advance(10);
      })
      .then((m) => {
        settled = true;
        return m;
      });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).to.equal(false);
    interval(r, 990, 0.5, 0.5);
    expect((await measured).footprint.provisional).to.equal(false);
    await r.metrics.shutdown();
  });

  it('start() asks the grid and sets the baseline; the timer samples; stop() samples and closes', async () => {
    const host = constantSource(5);
    const r = await rig({ host }, { ENERGY_SAMPLE_INTERVAL_MS: '50' });
    await r.cs.start();
    expect(r.grid.currentCalls).to.equal(1);
    expect(r.cs.snapshot().startedAt).to.equal('2026-01-01T00:00:00.000Z');
    expect(r.cs.snapshot().samples).to.equal(0);
    expect(r.lines.some((l) => String(l.msg).includes('host power from rapl'))).to.equal(true);
    expect(r.timer.pending.map((t) => [t.ms, t.repeat])).to.deep.equal([[50, false]]);
    r.clock.advance(50);
    r.timer.fire(); // the first sample, which then arms the interval timer
    await r.cs.firstSample();
    expect(r.cs.snapshot().samples).to.equal(1);
    expect(r.timer.live).to.equal(1);
    expect(r.timer.pending.at(-1)).to.include({ ms: 50, repeat: true });
    r.clock.advance(50);
    r.timer.fire();
    expect(r.cs.snapshot().samples).to.equal(2);
    r.clock.advance(50);
    await r.cs.stop();
    expect(r.cs.snapshot().samples).to.equal(3);
    expect(r.timer.live).to.equal(0);
    expect(host.closed).to.equal(true);
    await r.metrics.shutdown();
  });

  it('onSample() feeds listeners until they unsubscribe', async () => {
    const r = await rig({ host: constantSource(4) });
    await prime(r);
    const watts: number[] = [];
    const off = r.cs.onSample((s) => watts.push(s.hostWatts));
    interval(r, 500, 0.5, 0.1);
    off();
    interval(r, 500, 0.5, 0.1);
    expect(watts).to.deep.equal([4]);
    await r.metrics.shutdown();
  });
});
