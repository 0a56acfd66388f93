/**
 * KEPLER_PROMETHEUS_URL and SCAPHANDRE_PROMETHEUS_URL against a real Prometheus (Debian's
 * package) scraping two Kepler nodes and a Scaphandre served on loopback: the queries the
 * sources send are valid PromQL and answer this container's series, and its node's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { createExporterSource } from '../../src/energy/sources/exporter-source.js';
import { keplerSpec } from '../../src/energy/sources/kepler.js';
import type { ContainerIdentity } from '../../src/energy/sources/own-container.js';
import { queryPrometheus } from '../../src/energy/sources/prometheus-query.js';
import { scaphandreSpec } from '../../src/energy/sources/scaphandre.js';
import {
  containerId,
  ExporterServer,
  type KeplerNode,
  keplerExposition,
  podUid,
  scaphandreExposition,
  shopCluster,
} from '../helpers/exporters.js';
import { freePort } from '../helpers/ports.js';
import { tempDirUntilExit } from '../helpers/temp-dir.js';

const WEB = containerId('web');

describe('exporters through the Prometheus query API', function () {
  this.timeout(60_000);
  const dir = tempDirUntilExit('carbonscope-exporters-prom-');
  let exporters: ExporterServer | undefined;
  let prometheus: ChildProcess | undefined;
  let base = '';
  const nodes = shopCluster(WEB, containerId('sidecar'));

  before(async () => {
    const found = spawnSync('prometheus', ['--version'], { stdio: 'ignore' });
    if (found.error)
      throw new Error('prometheus is not installed (Debian: apt-get install prometheus)');
    exporters = await new ExporterServer().start();
    exporters.serve('/node-a/metrics', () => keplerExposition([nodes[0] as KeplerNode]));
    exporters.serve('/node-b/metrics', () => keplerExposition([nodes[1] as KeplerNode]));
    exporters.serve('/scaphandre/metrics', () =>
      scaphandreExposition(30e6, [
        {
          pid: 7,
          exe: 'node',
          cmdline: 'node x',
          microwatts: 2e6,
          container: { id: WEB, podName: 'web-7d9', namespace: 'shop' },
        },
        {
          pid: 8,
          exe: 'sh',
          cmdline: 'sh',
          microwatts: 1e6,
          container: { id: WEB, podName: 'web-7d9', namespace: 'shop' },
        },
      ]),
    );
    const target = `127.0.0.1:${exporters.port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, scrape_timeout: 1s }',
        'scrape_configs:',
        ...['node-a', 'node-b', 'scaphandre'].map(
          (job) =>
            `  - { job_name: ${job}, metrics_path: /${job}/metrics, static_configs: [{ targets: ['${target}'] }] }`,
        ),
        '',
      ].join('\n'),
    );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const deadline = performance.now() + 30_000;
    for (;;) {
      const up = await queryPrometheus(base, 'sum(up)', {
        timeoutMs: 1000,
        maxBytes: 1 << 20,
      }).catch(() => []);
      if (up[0]?.value === 3) break;
      if (performance.now() > deadline)
        throw new Error('Prometheus did not scrape the three exporters in 30 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    try {
      prometheus?.kill('SIGTERM');
      if (prometheus && prometheus.exitCode === null) await once(prometheus, 'exit');
      await exporters?.stop();
    } finally {
      // Also when the before hook failed half-way.
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const kepler = async (identity: ContainerIdentity) => {
    const spec = keplerSpec(identity);
    const source = createExporterSource({
      spec,
      read: () => queryPrometheus(base, spec.query(), { timeoutMs: 2000, maxBytes: 1 << 20 }),
      where: `${base}/api/v1/query`,
      intervalMs: 1000,
      background: false,
    });
    const probe = await source.probe();
    await source.close();
    return probe;
  };

  it('finds the container by id and its node by node_name, with sample timestamps', async () => {
    expect(await kepler({ containerId: WEB, from: [] })).to.deep.equal({
      ok: true,
      detail: `container ${WEB.slice(0, 12)} (web) on node-b: package+dram, node package+dram from ${base}/api/v1/query`,
    });
  });

  it('finds the container by the downward API through the pod series (the and-on join)', async () => {
    expect(
      await kepler({ podName: 'web-7d9', podNamespace: 'shop', containerName: 'web', from: [] }),
    )
      .to.have.property('detail')
      .that.includes(`container ${WEB.slice(0, 12)} (web) on node-b`);
    expect(await kepler({ podUid: podUid(1), from: [] }))
      .to.have.property('detail')
      .that.includes('(db) on node-a');
  });

  it('reads a Scaphandre container through the same API', async () => {
    const spec = scaphandreSpec({ pid: 1, exe: 'node', identity: { containerId: WEB, from: [] } });
    const samples = await queryPrometheus(base, spec.query(), {
      timeoutMs: 2000,
      maxBytes: 1 << 20,
    });
    const found = spec.interpret(samples);
    expect(found.ok && found.detail).to.equal(
      `container ${WEB.slice(0, 12)} (2 processes), host power`,
    );
    expect(found.ok && found.figures.map((f) => [f.scope, f.value])).to.deep.equal([
      ['process', 3],
      ['host', 30],
    ]);
  });
});
