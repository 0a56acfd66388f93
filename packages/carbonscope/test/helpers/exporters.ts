/**
 * Kepler and Scaphandre expositions written by the project from the exporters' documented
 * metric names and labels (Kepler's docs/user/metrics.md since 0.10 and its 0.7 metrics page;
 * Scaphandre's references/metrics.md), and a loopback server that serves them.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchExposition } from '../../src/energy/sources/bounded-fetch.js';
import {
  createExporterSource,
  type ExporterSource,
  type ExporterSpec,
} from '../../src/energy/sources/exporter-source.js';

/** RAPL zone name → joules so far. */
export type Zones = Record<string, number>;

export interface KeplerContainer {
  id: string;
  name: string;
  podUid: string;
  podName: string;
  namespace: string;
  zones: Zones;
}

export interface KeplerNode {
  name: string;
  /** Prometheus' `instance` of this node's Kepler. */
  instance: string;
  zones: Zones;
  containers: KeplerContainer[];
}

const esc = (v: string) =>
  v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labelText = (labels: Record<string, string>) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${esc(v)}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
};

export interface ExpositionStyle {
  /** As Prometheus' /federate gives it: `instance` and `job` labels, and a timestamp per line. */
  federated?: { timestampMs: number };
}

function line(
  name: string,
  labels: Record<string, string>,
  value: number,
  target: Pick<KeplerNode, 'instance'>,
  style: ExpositionStyle,
  job = 'kepler',
): string {
  const all = style.federated ? { ...labels, instance: target.instance, job } : labels;
  const ts = style.federated ? ` ${style.federated.timestampMs}` : '';
  return `${name}${labelText(all)} ${value}${ts}`;
}

/** Kepler ≥ 0.10: one counter per level, a `zone` label, `node_name` on every series. */
export function keplerExposition(
  nodes: readonly KeplerNode[],
  style: ExpositionStyle = {},
): string {
  const out: string[] = [
    '# HELP kepler_node_cpu_joules_total Energy consumption of cpu at node level in joules',
    '# TYPE kepler_node_cpu_joules_total counter',
  ];
  for (const n of nodes) {
    for (const [zone, j] of Object.entries(n.zones)) {
      out.push(
        line(
          'kepler_node_cpu_joules_total',
          { node_name: n.name, path: `aggregated-${zone}`, zone },
          j,
          n,
          style,
        ),
      );
    }
  }
  out.push(
    '# HELP kepler_node_cpu_watts Power consumption of cpu at node level in watts',
    '# TYPE kepler_node_cpu_watts gauge',
  );
  for (const n of nodes) {
    out.push(
      line(
        'kepler_node_cpu_watts',
        { node_name: n.name, path: 'aggregated-package', zone: 'package' },
        42,
        n,
        style,
      ),
    );
  }
  out.push(
    '# HELP kepler_container_cpu_joules_total Energy consumption of cpu at container level in joules',
    '# TYPE kepler_container_cpu_joules_total counter',
  );
  for (const n of nodes) {
    for (const c of n.containers) {
      for (const [zone, j] of Object.entries(c.zones)) {
        out.push(
          line(
            'kepler_container_cpu_joules_total',
            {
              container_id: c.id,
              container_name: c.name,
              node_name: n.name,
              pod_id: c.podUid,
              runtime: 'containerd',
              state: 'running',
              zone,
            },
            j,
            n,
            style,
          ),
        );
      }
    }
  }
  out.push(
    '# HELP kepler_pod_cpu_joules_total Energy consumption of cpu at pod level in joules',
    '# TYPE kepler_pod_cpu_joules_total counter',
  );
  for (const n of nodes) {
    const pods = new Map<string, KeplerContainer[]>();
    for (const c of n.containers) pods.set(c.podUid, [...(pods.get(c.podUid) ?? []), c]);
    for (const [uid, cs] of pods) {
      const first = cs[0] as KeplerContainer;
      for (const zone of Object.keys(first.zones)) {
        const j = cs.reduce((sum, c) => sum + (c.zones[zone] ?? 0), 0);
        out.push(
          line(
            'kepler_pod_cpu_joules_total',
            {
              node_name: n.name,
              pod_id: uid,
              pod_name: first.podName,
              pod_namespace: first.namespace,
              state: 'running',
              zone,
            },
            j,
            n,
            style,
          ),
        );
      }
    }
  }
  // Per-process series, which the source must skip cheaply (one has a long command line).
  out.push('# TYPE kepler_process_cpu_joules_total counter');
  for (const n of nodes) {
    out.push(
      line(
        'kepler_process_cpu_joules_total',
        {
          comm: 'java',
          container_id: '',
          exe: '/usr/bin/java',
          pid: '4242',
          state: 'running',
          type: 'regular',
          vm_id: '',
          zone: 'package',
          cmdline: `java ${'-Dx=y '.repeat(20_000)}`,
        },
        7,
        n,
        style,
      ),
    );
  }
  out.push('# EOF');
  return `${out.join('\n')}\n`;
}

/**
 * Kepler ≤ 0.7: one counter per component; containers carry `container_namespace`,
 * `pod_name` and a `mode` of dynamic or idle; the node's counters one per socket and mode.
 */
export function legacyKeplerExposition(nodes: readonly KeplerNode[]): string {
  const out: string[] = [];
  for (const comp of ['package', 'dram', 'core', 'uncore']) {
    out.push(`# TYPE kepler_container_${comp}_joules_total counter`);
    for (const n of nodes) {
      for (const c of n.containers) {
        const j = c.zones[comp];
        if (j === undefined) continue;
        const labels = {
          command: 'node',
          container_id: c.id,
          container_name: c.name,
          container_namespace: c.namespace,
          pod_name: c.podName,
        };
        out.push(
          `kepler_container_${comp}_joules_total${labelText({ ...labels, mode: 'dynamic' })} ${j}`,
        );
        out.push(
          `kepler_container_${comp}_joules_total${labelText({ ...labels, mode: 'idle' })} ${j / 2}`,
        );
      }
    }
    out.push(`# TYPE kepler_node_${comp}_joules_total counter`);
    for (const n of nodes) {
      const j = n.zones[comp];
      if (j === undefined) continue;
      for (const mode of ['dynamic', 'idle']) {
        out.push(
          `kepler_node_${comp}_joules_total${labelText({ instance: n.name, mode, package: '0', source: 'rapl' })} ${j / 2}`,
        );
      }
    }
  }
  return `${out.join('\n')}\n`;
}

export interface ScaphandreProcess {
  pid: number;
  exe: string;
  cmdline: string;
  microwatts: number;
  container?: { id: string; podName: string; namespace: string };
}

/** The `instance` Prometheus gives a federated Scaphandre's series. */
const SCAPHANDRE_TARGET = { instance: '10.0.0.1:8080' };

/**
 * Scaphandre's Prometheus exporter; container labels as `--containers` adds them. A host power
 * of `undefined` leaves the host series out (Scaphandre could not read it).
 */
export function scaphandreExposition(
  hostMicrowatts: number | undefined,
  procs: readonly ScaphandreProcess[],
  style: ExpositionStyle = {},
): string {
  const gauge = (name: string, labels: Record<string, string>, value: number) =>
    line(name, labels, value, SCAPHANDRE_TARGET, style, 'scaphandre');
  const out = [
    '# HELP scaph_host_power_microwatts Power measurement on the whole host, in microwatts',
    '# TYPE scaph_host_power_microwatts gauge',
    ...(hostMicrowatts === undefined
      ? []
      : [gauge('scaph_host_power_microwatts', {}, hostMicrowatts)]),
    '# HELP scaph_process_power_consumption_microwatts Power consumption due to the process, measured on at the topology level, in microwatts',
    '# TYPE scaph_process_power_consumption_microwatts gauge',
  ];
  for (const p of procs) {
    const labels: Record<string, string> = { cmdline: p.cmdline, exe: p.exe, pid: String(p.pid) };
    if (p.container) {
      Object.assign(labels, {
        container_id: p.container.id,
        container_scheduler: 'kubernetes',
        kubernetes_node_name: 'node-a',
        kubernetes_pod_name: p.container.podName,
        kubernetes_pod_namespace: p.container.namespace,
      });
    }
    out.push(gauge('scaph_process_power_consumption_microwatts', labels, p.microwatts));
  }
  return `${out.join('\n')}\n`;
}

/** A loopback HTTP server whose answers the test sets; counts the requests it got. */
export class ExporterServer {
  requests = 0;
  /** Path → what to answer; a function is called on each request. */
  routes = new Map<string, () => { status?: number; body: string; type?: string }>();
  /** Paths whose requests are accepted and never answered (a hung exporter). */
  readonly silent = new Set<string>();
  private server: Server | undefined;

  /** Listens on loopback, on `port` when given (an exporter coming back where it was). */
  async start(port = 0): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      this.requests++;
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if (this.silent.has(path)) return;
      const route = this.routes.get(path);
      if (!route) {
        res.writeHead(404).end('not found');
        return;
      }
      const { status = 200, body, type = 'text/plain; version=0.0.4' } = route();
      res.writeHead(status, { 'content-type': type }).end(body);
    });
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    return this;
  }

  get port(): number {
    if (!this.server) throw new Error('the exporter server is not started');
    return (this.server.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  serve(path: string, body: () => string): void {
    this.routes.set(path, () => ({ body: body() }));
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
    this.server = undefined;
  }
}

/** A 64-hex container id that reads as its name in a failing assertion. */
export function containerId(seed: string): string {
  return Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64);
}

/** A pod UID shaped as Kubernetes writes it. */
export function podUid(n: number): string {
  const h = n.toString(16).padStart(12, '0');
  return `0000000${n % 10}-aaaa-bbbb-cccc-${h}`;
}

/** One node running one container, `web` of the pod shop/web-1. */
export function singleContainerNode(
  id: string,
  zones: Zones = { package: 10, dram: 1 },
): KeplerNode {
  return {
    name: 'node-a',
    instance: '10.0.0.1:28282',
    zones: { package: 1000, dram: 100 },
    containers: [
      { id, name: 'web', podUid: podUid(1), podName: 'web-1', namespace: 'shop', zones },
    ],
  };
}

/**
 * An exporter source that scrapes `url` only when the test calls refresh() (or probe()); one
 * interval is 1 s of `clock`, so it hands over after 3 s without a good read.
 */
export function scrapedSource(
  spec: ExporterSpec,
  url: string,
  clock?: () => number,
  timeoutMs = 1000,
): ExporterSource {
  return createExporterSource({
    spec,
    read: () => fetchExposition(url, spec.wanted, { timeoutMs, maxBytes: 1 << 24 }),
    where: url,
    intervalMs: 1000,
    clock,
    background: false,
  });
}

/**
 * Two nodes: db-0 on node-a; on node-b the pod shop/web-7d9 (containers `web` and `sidecar`,
 * with the ids given) beside infra/cache-1. Pod UIDs podUid(1), (2), (3).
 */
export function shopCluster(web: string, sidecar: string): KeplerNode[] {
  const c = (
    id: string,
    name: string,
    pod: number,
    podName: string,
    namespace: string,
    zones: Zones,
  ) => ({
    id,
    name,
    podUid: podUid(pod),
    podName,
    namespace,
    zones,
  });
  return [
    {
      name: 'node-a',
      instance: '10.0.0.1:28282',
      zones: { package: 9000, core: 7000, uncore: 500, dram: 1000 },
      containers: [
        c(containerId('db'), 'db', 1, 'db-0', 'shop', { package: 300, core: 250, dram: 30 }),
      ],
    },
    {
      name: 'node-b',
      instance: '10.0.0.2:28282',
      zones: { package: 5000, core: 4000, uncore: 300, dram: 800 },
      containers: [
        c(web, 'web', 2, 'web-7d9', 'shop', { package: 100, core: 80, uncore: 5, dram: 10 }),
        c(sidecar, 'sidecar', 2, 'web-7d9', 'shop', { package: 20, core: 15, dram: 2 }),
        c(containerId('cache'), 'cache', 3, 'cache-1', 'infra', { package: 50, core: 40, dram: 8 }),
      ],
    },
  ];
}
