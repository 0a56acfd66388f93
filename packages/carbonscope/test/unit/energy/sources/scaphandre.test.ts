import { expect } from 'chai';
import type { ExporterSource } from '../../../../src/energy/sources/exporter-source.js';
import { parseExposition } from '../../../../src/energy/sources/exposition.js';
import {
  findScaphandreProcess,
  type ScaphandreTarget,
  scaphandreSpec,
} from '../../../../src/energy/sources/scaphandre.js';
import {
  containerId,
  ExporterServer,
  type ScaphandreProcess,
  scaphandreExposition,
  scrapedSource,
} from '../../../helpers/exporters.js';
import { ScriptedClock } from '../scripted.js';
import { NO_CPU } from './helpers.js';

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
});
