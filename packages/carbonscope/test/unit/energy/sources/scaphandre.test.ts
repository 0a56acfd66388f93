import { expect } from 'chai';
import type { ExporterSource } from '../../../../src/energy/sources/exporter-source.js';
import { parseExposition } from '../../../../src/energy/sources/exposition.js';
import { withHandover } from '../../../../src/energy/sources/handover.js';
import {
  findScaphandreProcess,
  type ScaphandreTarget,
  scaphandreSpec,
} from '../../../../src/energy/sources/scaphandre.js';
import type { EnergyReading, PowerSource } from '../../../../src/energy/sources/source.js';
import {
  containerId,
  ExporterServer,
  type ScaphandreProcess,
  scaphandreExposition,
  scrapedSource,
} from '../../../helpers/exporters.js';
import { constantSource, ScriptedClock } from '../scripted.js';
import { captureLogger, NO_CPU } from './helpers.js';

const WEB = containerId('web');
const PROCS: ScaphandreProcess[] = [
  { pid: 1, exe: 'systemd', cmdline: '/sbin/init', microwatts: 100_000 },
  { pid: 4242, exe: 'node', cmdline: 'node dist/src/server.js', microwatts: 2_500_000 },
  {
    pid: 5000,
    exe: 'node',
    cmdline: 'node a.js',
    microwatts: 1_000_000,
    container: { id: WEB, podName: 'web-1', namespace: 'shop' },
  },
  {
    pid: 5001,
    exe: 'sh',
    cmdline: 'sh -c x',
    microwatts: 500_000,
    container: { id: WEB, podName: 'web-1', namespace: 'shop' },
  },
];
const onHost: ScaphandreTarget = { pid: 4242, exe: 'node', identity: { from: [] } };
const samples = parseExposition(scaphandreExposition(30_000_000, PROCS));

describe('energy/sources/scaphandre', () => {
  it('finds this process by pid on the host, checking its executable', () => {
    const m = findScaphandreProcess(samples, onHost);
    expect(m).to.have.property('what', 'pid 4242');
    expect(findScaphandreProcess(samples, { ...onHost, pid: 1 })).to.deep.equal({
      reason: 'its pid 1 is systemd, not this node: it measures another machine',
    });
    expect(findScaphandreProcess(samples, { ...onHost, pid: 7 })).to.deep.equal({
      reason: 'no process with pid 7 among the 4 it reports',
    });
  });

  it('in a container, sums every process of it when Scaphandre labels containers', () => {
    const inContainer = { ...onHost, pid: 1, identity: { containerId: WEB, from: [] } };
    const m = findScaphandreProcess(samples, inContainer);
    expect(m).to.have.property('what', `container ${WEB.slice(0, 12)}`);
    const byPod = findScaphandreProcess(samples, {
      ...onHost,
      pid: 1,
      identity: { podName: 'web-1', podNamespace: 'shop', from: [] },
    });
    expect(byPod).to.have.property('what', 'pod shop/web-1');
    const unlabelled = parseExposition(scaphandreExposition(1, PROCS.slice(0, 2)));
    expect(findScaphandreProcess(unlabelled, inContainer))
      .to.have.property('reason')
      .that.includes('run it with --containers');
  });

  describe('as a source', () => {
    let server: ExporterServer;
    let source: ExporterSource;
    const clock = new ScriptedClock(0);
    before(async () => {
      server = await new ExporterServer().start();
      server.serve('/metrics', () => scaphandreExposition(30_000_000, PROCS));
      const spec = scaphandreSpec({ ...onHost, pid: 1, identity: { containerId: WEB, from: [] } });
      source = scrapedSource(spec, server.url('/metrics'), clock.now);
    });
    after(async () => {
      await source.close();
      await server.stop();
    });

    it('gives the container power as measured and the host power as the host scope', async () => {
      expect(await source.probe()).to.deep.equal({
        ok: true,
        detail: `container ${WEB.slice(0, 12)} (2 processes), host power from ${server.url('/metrics')}`,
      });
      const rs = source.sample({ nowMs: clock.advance(2000), elapsedMs: 2000, hostCpu: NO_CPU });
      expect(rs).to.deep.equal([
        { scope: 'process', component: 'system', device: 'process', joules: 3, watts: 1.5 },
        { scope: 'host', component: 'system', device: 'host', joules: 60, watts: 30 },
      ]);
    });

    it('asks Prometheus for the same series in one query', () => {
      const spec = scaphandreSpec({
        ...onHost,
        identity: { containerId: WEB, podName: 'web-1', podNamespace: 'shop', from: [] },
      });
      expect(spec.query()).to.equal(
        `scaph_process_power_consumption_microwatts{container_id=~"${WEB}.*"} or ` +
          'scaph_process_power_consumption_microwatts{kubernetes_pod_name="web-1",kubernetes_pod_namespace="shop"} or ' +
          'scaph_host_power_microwatts',
      );
      expect(scaphandreSpec(onHost).query()).to.equal(
        'scaph_process_power_consumption_microwatts{pid="4242"} or scaph_host_power_microwatts',
      );
    });
  });

  describe('hand-over to the next source, and back', () => {
    let server: ExporterServer;
    let procs: ScaphandreProcess[];
    let body: () => string;
    let clock: ScriptedClock;
    let log: ReturnType<typeof captureLogger>;
    let primary: ExporterSource;
    let host: PowerSource | undefined;

    /** What Scaphandre says pid 4242 and its host draw, over an interval of `seconds`. */
    const measured = (processWatts = 2.5, seconds = 1): EnergyReading[] => [
      {
        scope: 'process',
        component: 'system',
        device: 'process',
        joules: processWatts * seconds,
        watts: processWatts,
      },
      { scope: 'host', component: 'system', device: 'host', joules: 30 * seconds, watts: 30 },
    ];
    /** The estimate's 20 W covering an interval of `seconds`. */
    const estimated = (seconds = 1): EnergyReading[] => [
      { component: 'package', device: 'package-0', joules: 20 * seconds, watts: 20 },
    ];
    const coversMsg = (reason: string) =>
      `energy: scaphandre (measured) cannot be used: ${reason}; estimate (estimated) covers until it can`;
    const BACK = 'energy: scaphandre (measured) readings are used again';

    beforeEach(async () => {
      server = await new ExporterServer().start();
      procs = PROCS.map((p) => ({ ...p }));
      body = () => scaphandreExposition(30_000_000, procs);
      server.serve('/metrics', () => body());
      clock = new ScriptedClock(1000);
      log = captureLogger();
    });
    afterEach(async () => {
      await host?.close();
      host = undefined;
      await server.stop();
    });

    /** Scaphandre for this process (pid 4242), the estimate covering, as selectSources builds it. */
    const open = async (o: { url?: string; timeoutMs?: number } = {}) => {
      const url = o.url ?? server.url('/metrics');
      primary = scrapedSource(scaphandreSpec(onHost), url, clock.now, o.timeoutMs);
      const probe = await primary.probe();
      host = withHandover({
        primary,
        fallback: constantSource(20, { name: 'estimate' }),
        logger: log.logger,
        unusable: !probe.ok,
      });
      return host;
    };
    /** One sample interval of `ms`, after the exporter's background read (unless `read` is false). */
    const interval = async (h: PowerSource, ms = 1000, read = true) => {
      if (read) await primary.refresh();
      return h.sample({ nowMs: clock.advance(ms), elapsedMs: ms, hostCpu: NO_CPU });
    };

    it('its process leaves the exposition: the estimate covers, says why once, and Scaphandre is used again when it is back', async () => {
      const h = await open();
      expect(await interval(h)).to.deep.equal(measured());
      const mine = procs.splice(1, 1);
      expect(await interval(h)).to.deep.equal(estimated());
      expect([h.name, h.estimated, h.scope]).to.deep.equal(['estimate', true, 'host']);
      expect(await interval(h)).to.deep.equal(estimated());
      expect(log.warnings()).to.have.length(1);
      expect(log.warnings()[0]).to.include({
        source: 'scaphandre',
        estimated: false,
        fallback: 'estimate',
        kind: 'missing',
        msg: coversMsg('no process with pid 4242 among the 3 it reports'),
      });
      procs.splice(1, 0, ...mine);
      expect(await interval(h)).to.deep.equal(measured());
      expect([h.name, h.estimated, h.scope]).to.deep.equal(['scaphandre', false, 'process']);
      expect(log.lines.filter((l) => l.msg === BACK).map((l) => l.level)).to.deep.equal([40]);
    });

    it('goes stale when reads stop, or when Prometheus gives old samples; a fresh read brings it back', async () => {
      const h = await open();
      await interval(h);
      // The read at 1 s was the last: 3.5 s later its figures are too old to hand out.
      expect(await interval(h, 2500, false)).to.deep.equal(estimated(2.5));
      expect(log.warnings()[0]).to.include({
        kind: 'stale',
        msg: coversMsg('no good read for 3.5 s'),
      });
      expect(await interval(h)).to.deep.equal(measured());
      // Through Prometheus (/federate): the series are there, with a timestamp a minute old.
      body = () =>
        scaphandreExposition(30_000_000, procs, {
          federated: { timestampMs: Date.now() - 60_000 },
        });
      expect(await interval(h)).to.deep.equal(estimated());
      // The same kind again: said at debug, not warned twice (its first return was).
      expect(log.warnings().filter((l) => l.msg !== BACK)).to.have.length(1);
      expect(log.lines.at(-1)).to.include({
        level: 20,
        kind: 'stale',
        msg: coversMsg('its latest sample is 60 s old'),
      });
      body = () =>
        scaphandreExposition(30_000_000, procs, { federated: { timestampMs: Date.now() } });
      expect(await interval(h)).to.deep.equal(measured());
      expect(h.name).to.equal('scaphandre');
    });

    it('Scaphandre restarts: unreachable for three intervals hands over, and a lower power after it is no counter reset', async () => {
      const h = await open();
      expect(await interval(h)).to.deep.equal(measured());
      const port = server.port;
      const routes = server.routes;
      await server.stop();
      // Within three intervals of the last good read its figures still hold.
      expect(await interval(h)).to.deep.equal(measured());
      expect(await interval(h)).to.deep.equal(measured());
      expect(await interval(h)).to.deep.equal(estimated());
      const [warn] = log.warnings();
      expect(warn).to.include({ source: 'scaphandre', fallback: 'estimate', kind: 'unreachable' });
      expect(warn?.msg).to.match(
        /^energy: scaphandre \(measured\) cannot be used: no good read for 4\.0 s \(http:\/\/127\.0\.0\.1:\d+\/metrics: ECONNREFUSED\); estimate \(estimated\) covers until it can$/,
      );
      server = await new ExporterServer().start(port);
      server.routes = routes;
      // Its figures are power gauges: a restarted Scaphandre's lower one is simply the power now.
      (procs[1] as ScaphandreProcess).microwatts = 500_000;
      expect(await interval(h)).to.deep.equal(measured(0.5));
      expect(h.name).to.equal('scaphandre');
      expect(log.lines.filter((l) => l.kind === 'reset')).to.deep.equal([]);
      expect(log.lines.filter((l) => l.msg === BACK).map((l) => l.level)).to.deep.equal([40]);
    });

    it('Scaphandre hangs: each read gives up at its timeout, the estimate covers, and it is used again once it answers', async () => {
      const h = await open({ timeoutMs: 100 });
      expect(await interval(h)).to.deep.equal(measured());
      server.silent.add('/metrics');
      expect(await interval(h, 1500)).to.deep.equal(measured(2.5, 1.5));
      expect(await interval(h, 1500)).to.deep.equal(estimated(1.5));
      expect(log.warnings()[0]).to.include({ kind: 'unreachable' });
      expect(log.warnings()[0]?.msg).to.equal(
        coversMsg(`no good read for 4.0 s (${server.url('/metrics')}: no answer within 100 ms)`),
      );
      server.silent.delete('/metrics');
      expect(await interval(h)).to.deep.equal(measured());
      expect(h.name).to.equal('scaphandre');
    });

    it('not answering at start: the estimate covers from the first interval, Scaphandre once it answers', async () => {
      const url = server.url('/metrics');
      const routes = server.routes;
      await server.stop();
      const h = await open({ url });
      expect(h.name).to.equal('estimate');
      expect(await interval(h)).to.deep.equal(estimated());
      // Its probe's failure is the caller's to log (selectSources does): the hand-over adds none.
      expect(log.warnings()).to.deep.equal([]);
      server = await new ExporterServer().start(Number(new URL(url).port));
      server.routes = routes;
      expect(await interval(h)).to.deep.equal(measured());
      expect(log.lines.filter((l) => l.msg === BACK).map((l) => l.level)).to.deep.equal([40]);
    });

    it('its host series vanishes: the process is still measured, and no host figure is carried on from an old read', async () => {
      const h = await open();
      expect(await interval(h)).to.deep.equal(measured());
      body = () => scaphandreExposition(undefined, procs);
      expect(await interval(h)).to.deep.equal(measured().filter((r) => r.scope === 'process'));
      expect(primary.detail).to.equal('pid 4242, no host figure');
      expect(log.warnings()).to.deep.equal([]);
    });
  });
});
