import { expect } from 'chai';
import type { ExporterSource } from '../../../../src/energy/sources/exporter-source.js';
import { withHandover } from '../../../../src/energy/sources/handover.js';
import { keplerSpec } from '../../../../src/energy/sources/kepler.js';
import type { PowerSource } from '../../../../src/energy/sources/source.js';
import type { OperationFootprint } from '../../../../src/energy/types.js';
import {
  containerId,
  ExporterServer,
  type KeplerNode,
  keplerExposition,
  scrapedSource,
  singleContainerNode,
} from '../../../helpers/exporters.js';
import {
  constantSource,
  intensityReading,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  ScriptedSource,
  StubGrid,
  scriptedCarbonscope,
} from '../scripted.js';

const WEB = containerId('web');

async function rig(host: PowerSource, clock = new ScriptedClock(10_000), log = memoryLogger()) {
  const cpu = new ScriptedCpu();
  const cs = await scriptedCarbonscope({
    clock,
    cpu,
    host,
    logger: log.logger,
    grid: new StubGrid(intensityReading('DE', 400)),
    wallClock: () => Date.UTC(2026, 0, 1),
  });
  await cs.start();
  const interval = (ms: number) => {
    clock.advance(ms);
    // 2 CPUs, host half busy, the process a quarter of a CPU: its CPU share would be 12.5 %.
    cpu.interval(ms / 1000, 0.5, ms / 4000);
    return cs.meter.sampleNow();
  };
  return { cs, cpu, interval };
}

describe('process-scope sources and the hand-over', () => {
  it('takes a process-scope source as the process figure, and its host readings as the host', async () => {
    const measured: PowerSource = {
      name: 'kepler',
      estimated: false,
      kind: 'host',
      scope: 'process',
      probe: async () => ({ ok: true, detail: 'scripted' }),
      sample: (t) => [
        { component: 'package', device: 'package', joules: (3 * t.elapsedMs) / 1000, watts: 3 },
        {
          scope: 'host',
          component: 'package',
          device: 'package',
          joules: (40 * t.elapsedMs) / 1000,
          watts: 40,
        },
      ],
      close: async () => undefined,
    };
    const r = await rig(measured);
    const ends: OperationFootprint[] = [];
    r.cs.onEnd((f) => ends.push(f));
    const op = r.cs.begin('work');
    const s1 = r.interval(1000);
    r.interval(1000);
    op.end();
    expect(s1?.processJoules).to.equal(3); // as measured, not 12.5 % of 40
    expect(s1?.hostJoules).to.equal(40);
    expect(s1?.totals.process.estimated).to.equal(false);
    expect(s1?.power).to.deep.include({
      scope: 'process',
      component: 'package',
      source: 'kepler',
      estimated: false,
      watts: 3,
      joules: 3,
    });
    // Settled by the next sample: the one operation ran through both intervals, 3 J each.
    expect(ends).to.have.length(0);
    r.interval(1000);
    expect(ends[0]?.joules).to.be.closeTo(6, 1e-9);
    expect(ends[0]?.estimated).to.equal(false);
    await r.cs.stop();
  });

  // The fallback was sampled outside the try: a fallback that threw (RAPL's tree gone behind
  // Kepler, a broken estimate) took the primary's good readings of that tick with it.
  it('a fallback that throws loses none of the primary readings; a gap of both still throws', () => {
    const log = memoryLogger();
    let primaryFails = false;
    const primary = new ScriptedSource('kepler', 'host', false, (t) => {
      if (primaryFails) throw Object.assign(new Error('exporter unreachable'), { kind: 'fetch' });
      return [{ component: 'package', device: 'package', joules: t.elapsedMs / 1000, watts: 1 }];
    });
    const fallback = new ScriptedSource('rapl', 'host', false, () => {
      throw Object.assign(new Error('powercap tree gone'), { kind: 'unreadable' });
    });
    const host = withHandover({ primary, fallback, logger: log.logger });
    const t = {
      nowMs: 1000,
      elapsedMs: 1000,
      hostCpu: { activeSeconds: 0, totalSeconds: 0, cpus: 1 },
    };
    expect(host.sample(t).map((r) => r.joules)).to.deep.equal([1]);
    expect(host.name).to.equal('kepler');
    // Sampled every tick all the same, so its counters never span the primary's time.
    expect(fallback.ticks).to.have.length(1);
    primaryFails = true;
    expect(() => host.sample(t)).to.throw('powercap tree gone');
  });

  describe('with Kepler behind it', () => {
    let server: ExporterServer;
    let nodes: KeplerNode[];
    let kepler: ExporterSource;
    const web = () => nodes[0]?.containers[0] as KeplerNode['containers'][number];

    beforeEach(async () => {
      server = await new ExporterServer().start();
      nodes = [singleContainerNode(WEB)];
      server.serve('/metrics', () => keplerExposition(nodes));
    });
    afterEach(async () => server.stop());

    it('hands a reset interval over to the estimate, says why once, and comes back', async () => {
      const spec = keplerSpec({ containerId: WEB, from: [] });
      const url = server.url('/metrics');
      const clock = new ScriptedClock(10_000);
      kepler = scrapedSource(spec, url, clock.now);
      expect((await kepler.probe()).ok).to.equal(true);
      const estimate = constantSource(20, { name: 'estimate' });
      // The hand-over logs where the meter does.
      const log = memoryLogger();
      const lines = log.lines;
      const host = withHandover({ primary: kepler, fallback: estimate, logger: log.logger });
      const { cs, cpu } = await rig(host, clock, log);
      const interval = async (change?: () => void) => {
        change?.();
        await kepler.refresh();
        clock.advance(1000);
        cpu.interval(1, 0.5, 0.25);
        return cs.meter.sampleNow();
      };

      const good = await interval(() => {
        web().zones = { package: 12, dram: 1.5 };
      });
      expect(good?.totals.process.estimated).to.equal(false);
      expect(good?.power.find((p) => p.scope === 'process')?.source).to.equal('kepler');

      const reset = await interval(() => {
        web().zones = { package: 0.5, dram: 0.1 };
      });
      // dynamic share of the estimate's 20 W: 0.25 of 1 busy CPU-s, of the active half.
      expect(reset?.processJoules).to.be.closeTo(20 * 0.5 * 0.25, 1e-9);
      expect(reset?.totals.process.estimated).to.equal(true);
      expect(host.name).to.equal('estimate');
      const warn = lines.find((l) => l.level === 40);
      expect(warn).to.include({
        source: 'kepler',
        estimated: false,
        fallback: 'estimate',
        kind: 'reset',
      });
      expect(warn?.msg).to.match(
        /^energy: kepler \(measured\) cannot be used: the container's package counter went back from 12\.0 J to 0\.5 J \(the exporter restarted\); estimate \(estimated\) covers until it can$/,
      );

      const back = await interval(() => {
        web().zones = { package: 1.5, dram: 0.2 };
      });
      expect(back?.totals.process.wattsEstimated).to.equal(false);
      // The estimate's joules of the reset interval are still in the totals.
      expect(back?.totals.process.estimated).to.equal(true);
      expect(host.name).to.equal('kepler');
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).to.include(
        'energy: kepler (measured) readings are used again',
      );
      const processSeries = cs.snapshot().power.filter((p) => p.scope === 'process');
      expect(processSeries.map((p) => `${p.source}:${p.estimated}`).sort()).to.deep.equal([
        'estimate:true',
        'kepler:false',
        'kepler:false',
      ]);
      await cs.stop();
    });
  });
});
