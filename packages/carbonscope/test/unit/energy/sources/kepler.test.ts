import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { fetchExposition } from '../../../../src/energy/sources/bounded-fetch.js';
import {
  ExporterFault,
  type ExporterSource,
} from '../../../../src/energy/sources/exporter-source.js';
import { keplerSpec } from '../../../../src/energy/sources/kepler.js';
import type { ContainerIdentity } from '../../../../src/energy/sources/own-container.js';
import type { EnergyReading } from '../../../../src/energy/sources/source.js';
import {
  containerId,
  ExporterServer,
  type KeplerNode,
  keplerExposition,
  legacyKeplerExposition,
  podUid,
  scrapedSource,
  shopCluster,
} from '../../../helpers/exporters.js';
import { ScriptedClock } from '../scripted.js';
import { NO_CPU } from './helpers.js';

const WEB = containerId('web');
const SIDECAR = containerId('sidecar');

const sum = (rs: readonly EnergyReading[], scope: 'process' | 'host') =>
  rs.filter((r) => (r.scope ?? 'process') === scope).reduce((s, r) => s + r.joules, 0);

describe('energy/sources/kepler', () => {
  let server: ExporterServer;
  let nodes: KeplerNode[];
  let clock: ScriptedClock;
  let body: () => string;
  const opened: ExporterSource[] = [];

  beforeEach(async () => {
    server = await new ExporterServer().start();
    nodes = shopCluster(WEB, SIDECAR);
    clock = new ScriptedClock(1000);
    body = () => keplerExposition(nodes, { federated: { timestampMs: Date.now() } });
    server.serve('/federate', () => body());
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await server.stop();
  });

  const source = (identity: ContainerIdentity, path = '/federate') => {
    const s = scrapedSource(keplerSpec(identity), server.url(path), clock.now);
    opened.push(s);
    return s;
  };
  const web = () => nodes[1]?.containers[0] as KeplerNode['containers'][number];
  const nodeB = () => nodes[1] as KeplerNode;
  const tick = (ms: number) => ({ nowMs: clock.advance(ms), elapsedMs: ms, hostCpu: NO_CPU });

  it('finds its container by id among two nodes and sums package and dram, never core', async () => {
    const s = source({ containerId: WEB, from: [] });
    const probe = await s.probe();
    expect(probe).to.deep.equal({
      ok: true,
      detail: `container ${WEB.slice(0, 12)} (web) on node-b: package+dram, node package+dram from ${server.url('/federate')}`,
    });
    web().zones = { package: 110, core: 88, uncore: 6, dram: 12 }; // +10 package, +2 dram
    nodeB().zones = { package: 5040, core: 4030, uncore: 305, dram: 810 }; // +40, +10
    clock.advance(1000);
    await s.refresh();
    let process = 0;
    let host = 0;
    for (let i = 0; i < 5; i++) {
      const rs = s.sample(tick(400));
      for (const r of rs) expect(r.joules).to.be.at.least(0);
      process += sum(rs, 'process');
      host += sum(rs, 'host');
    }
    expect(process).to.be.closeTo(12, 1e-9);
    expect(host).to.be.closeTo(50, 1e-9);
  });

  it('paces a step of the counter over the time the step took, not all in one interval', async () => {
    const s = source({ containerId: WEB, from: [] });
    await s.probe();
    web().zones.package = 100 + 50; // 50 J over the 5 s since the last change
    clock.advance(5000);
    await s.refresh();
    const first = s.sample(tick(1000));
    expect(sum(first, 'process')).to.be.closeTo(10, 1e-9);
    expect(first.find((r) => r.component === 'package')?.watts).to.be.closeTo(10, 1e-9);
  });

  it('finds its container from the downward API through the pod series (Kepler ≥ 0.10)', async () => {
    const pod = { podName: 'web-7d9', podNamespace: 'shop', from: [] };
    const ambiguous = await source(pod).probe();
    expect(ambiguous.ok).to.equal(false);
    expect(ambiguous)
      .to.have.property('reason')
      .that.matches(/2 containers \(sidecar, web\): set CONTAINER_NAME/);
    const named = await source({ ...pod, containerName: 'web' }).probe();
    expect(named)
      .to.have.property('detail')
      .that.includes(`container ${WEB.slice(0, 12)} (web) on node-b`);
    const byUid = await source({ podUid: podUid(3), from: [] }).probe();
    expect(byUid).to.have.property('detail').that.includes('(cache) on node-b');
  });

  it('reads Kepler 0.7 names: package and dram of the dynamic mode; the node with its idle part', async () => {
    server.serve('/legacy', () => legacyKeplerExposition([nodeB()]));
    const s = source(
      { podName: 'web-7d9', podNamespace: 'shop', containerName: 'web', from: [] },
      '/legacy',
    );
    const probe = await s.probe();
    expect(probe)
      .to.have.property('detail')
      .that.includes('package+dram, node package+dram (Kepler ≤ 0.7 metric names)');
    web().zones = { package: 104, core: 83, dram: 11 };
    nodeB().zones = { package: 5010, core: 4005, dram: 802 };
    clock.advance(1000);
    await s.refresh();
    const rs = s.sample(tick(2000));
    expect(sum(rs, 'process')).to.be.closeTo(5, 1e-9);
    expect(sum(rs, 'host')).to.be.closeTo(12, 1e-9);
  });

  it('takes psys alone where the platform zone exists', async () => {
    web().zones = { psys: 400, package: 100, dram: 10 };
    const s = source({ containerId: WEB, from: [] });
    await s.probe();
    web().zones = { psys: 430, package: 120, dram: 12 };
    clock.advance(1000);
    await s.refresh();
    const rs = s.sample(tick(1000));
    expect(
      rs.filter((r) => r.scope === 'process').map((r) => [r.component, r.joules]),
    ).to.deep.equal([['system', 30]]);
  });

  it('hands over for the interval of a counter reset (Kepler restarted), then goes on from the new value', async () => {
    const s = source({ containerId: WEB, from: [] });
    await s.probe();
    web().zones = { package: 3, core: 2, dram: 1 }; // Kepler came back from 0
    clock.advance(1000);
    await s.refresh();
    let fault: unknown;
    try {
      s.sample(tick(1000));
    } catch (err) {
      fault = err;
    }
    expect(fault).to.be.instanceOf(ExporterFault);
    expect(fault).to.have.property('kind', 'reset');
    expect((fault as Error).message).to.match(
      /went back from 100\.0 J to 3\.0 J \(the exporter restarted\)/,
    );
    web().zones = { package: 7, core: 5, dram: 2 };
    clock.advance(1000);
    await s.refresh();
    let process = 0;
    for (let i = 0; i < 4; i++) process += sum(s.sample(tick(500)), 'process');
    // 5 J since the restart, less the part of the time the interval handed over covered.
    expect(process).to.be.closeTo(5 * (1 - 1000 / 2000), 1e-9);
  });

  it('hands over while its container is missing and comes back when it reappears', async () => {
    const s = source({ containerId: WEB, from: [] });
    await s.probe();
    const kept = nodeB().containers.splice(0, 1);
    clock.advance(1000);
    await s.refresh();
    expect(() => s.sample(tick(1000))).to.throw(
      ExporterFault,
      /no series for container .* among the 3 containers it reports/,
    );
    nodeB().containers.unshift(...kept);
    clock.advance(1000);
    await s.refresh();
    expect(() => s.sample(tick(1000))).not.to.throw();
  });

  it('goes stale when no read succeeds for three intervals, and says why when unreachable', async () => {
    const s = source({ containerId: WEB, from: [] });
    await s.probe();
    expect(() => s.sample(tick(2500))).not.to.throw();
    expect(() => s.sample(tick(1000))).to.throw(ExporterFault, /no good read for 3\.5 s/);
    await server.stop();
    await s.refresh();
    try {
      s.sample(tick(1000));
      expect.fail('no fault');
    } catch (err) {
      expect(err).to.have.property('kind', 'unreachable');
      expect((err as Error).message, (err as Error).message).to.match(
        /no good read for 4\.5 s \(http:\/\/127\.0\.0\.1:\d+\/federate: ECONNREFUSED\)/,
      );
    }
    server = await new ExporterServer().start(); // for afterEach
  });

  it('refuses samples Prometheus timestamped long ago', async () => {
    body = () => keplerExposition(nodes, { federated: { timestampMs: Date.now() - 60_000 } });
    const probe = await source({ containerId: WEB, from: [] }).probe();
    expect(probe).to.deep.equal({ ok: false, reason: 'its latest sample is 60 s old' });
  });

  it('says so when the endpoint answers an error, a malformed line, or more than it may', async () => {
    server.routes.set('/broken', () => ({ status: 503, body: 'down' }));
    expect(await source({ containerId: WEB, from: [] }, '/broken').probe()).to.deep.equal({
      ok: false,
      reason: `${server.url('/broken')}: HTTP 503`,
    });
    server.serve('/garbled', () => 'kepler_container_cpu_joules_total{zone="package" 12\n');
    const garbled = await source({ containerId: WEB, from: [] }, '/garbled').probe();
    expect(garbled)
      .to.have.property('reason')
      .that.matches(/kepler_container_cpu_joules_total: expected , or \}/);
    const spec = keplerSpec({ containerId: WEB, from: [] });
    const big = await fetchExposition(server.url('/federate'), spec.wanted, {
      timeoutMs: 1000,
      maxBytes: 1000,
    }).catch((e: unknown) => e);
    expect(big).to.have.property('kind', 'too-large');
  });

  it('gives up on an exporter that does not answer within the timeout', async () => {
    const silent = createServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as AddressInfo).port;
    const spec = keplerSpec({ containerId: WEB, from: [] });
    const err = await fetchExposition(`http://127.0.0.1:${port}/metrics`, spec.wanted, {
      timeoutMs: 150,
      maxBytes: 1000,
    }).catch((e: unknown) => e);
    silent.closeAllConnections();
    silent.close();
    expect(err).to.have.property('kind', 'timeout');
    expect(String(err)).to.include('no answer within 150 ms');
  });
});
