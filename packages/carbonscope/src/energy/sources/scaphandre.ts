import { basename } from 'node:path';
import type { ExporterFigure, ExporterSpec, Interpretation } from './exporter-source.js';
import type { SeriesSample } from './exposition.js';
import type { ContainerIdentity } from './own-container.js';
import { promString } from './prometheus-query.js';

/**
 * Scaphandre's gauges, in microwatts: a process's power (`exe`, `pid`, `cmdline`; with
 * `--containers` also `container_id`, `kubernetes_pod_name`, `kubernetes_pod_namespace`) and
 * the host's (from RAPL psys when present, else the sockets).
 */
export const SCAPHANDRE_METRICS = {
  process: 'scaph_process_power_consumption_microwatts',
  host: 'scaph_host_power_microwatts',
} as const;

const WANTED = new Set<string>(Object.values(SCAPHANDRE_METRICS));
const MICRO = 1e-6;

export interface ScaphandreTarget {
  /** This process's id, as the host sees it when there is no pid namespace between them. */
  pid: number;
  /** The executable's name, checked against `exe` so a pid of another process is not taken. */
  exe: string;
  /** The container (and pod), when this process runs in one. */
  identity: ContainerIdentity;
}

export function ownScaphandreTarget(identity: ContainerIdentity): ScaphandreTarget {
  return { pid: process.pid, exe: basename(process.execPath), identity };
}

type Match = { series: SeriesSample[]; what: string } | { reason: string };

/**
 * This process's series: every process of its container when Scaphandre labels containers
 * (`--containers`), else the one with its pid. Inside a container the pid is not the host's,
 * so without container labels there is nothing to find.
 */
export function findScaphandreProcess(
  samples: readonly SeriesSample[],
  t: ScaphandreTarget,
): Match {
  const procs = samples.filter((s) => s.name === SCAPHANDRE_METRICS.process);
  const { containerId, podName, podNamespace } = t.identity;
  if (containerId) {
    const mine = procs.filter((s) => {
      const id = s.labels.container_id;
      return (
        id !== undefined &&
        (id === containerId || (containerId.length < 64 && id.startsWith(containerId)))
      );
    });
    if (mine.length) return { series: mine, what: `container ${containerId.slice(0, 12)}` };
  }
  if (podName && podNamespace) {
    const mine = procs.filter(
      (s) =>
        s.labels.kubernetes_pod_name === podName &&
        s.labels.kubernetes_pod_namespace === podNamespace,
    );
    if (mine.length) return { series: mine, what: `pod ${podNamespace}/${podName}` };
  }
  if (containerId || podName) {
    const labelled = procs.some((s) => s.labels.container_id !== undefined);
    return {
      reason: labelled
        ? `no process of this container (${containerId?.slice(0, 12) ?? `pod ${podNamespace}/${podName}`}) among the ${procs.length} it reports`
        : `this process runs in a container, whose pids are not the host's, and Scaphandre labels no containers: run it with --containers`,
    };
  }
  const pid = String(t.pid);
  const mine = procs.filter((s) => s.labels.pid === pid);
  if (mine.length === 0) {
    return { reason: `no process with pid ${pid} among the ${procs.length} it reports` };
  }
  const exe = mine[0]?.labels.exe;
  if (exe && basename(exe) !== t.exe) {
    return { reason: `its pid ${pid} is ${exe}, not this ${t.exe}: it measures another machine` };
  }
  if (new Set(mine.map((s) => s.labels.instance)).size > 1) {
    return { reason: `pid ${pid} is on several hosts; run Scaphandre with --containers` };
  }
  return { series: mine, what: `pid ${pid}` };
}

/** Reads a Scaphandre exposition (or Prometheus' copy of it) for this process or container. */
export function scaphandreSpec(t: ScaphandreTarget): ExporterSpec {
  return {
    name: 'scaphandre',
    wanted: (metric) => WANTED.has(metric),

    query() {
      const { containerId, podName, podNamespace } = t.identity;
      const proc = SCAPHANDRE_METRICS.process;
      const selectors: string[] = [];
      if (containerId) selectors.push(`container_id=~${promString(`${containerId}.*`)}`);
      if (podName && podNamespace) {
        selectors.push(
          `kubernetes_pod_name=${promString(podName)},kubernetes_pod_namespace=${promString(podNamespace)}`,
        );
      }
      if (!selectors.length) selectors.push(`pid=${promString(String(t.pid))}`);
      return [...selectors.map((s) => `${proc}{${s}}`), SCAPHANDRE_METRICS.host].join(' or ');
    },

    interpret(samples): Interpretation {
      const found = findScaphandreProcess(samples, t);
      if ('reason' in found) return { ok: false, kind: 'missing', reason: found.reason };
      const watts = found.series.reduce(
        (sum, s) => sum + (Number.isFinite(s.value) ? s.value : 0) * MICRO,
        0,
      );
      const stamp = found.series[0]?.timestampMs;
      const figures: ExporterFigure[] = [
        {
          scope: 'process',
          component: 'system',
          device: 'process',
          unit: 'watts',
          value: watts,
          timestampMs: stamp,
        },
      ];
      const instance = found.series[0]?.labels.instance;
      const hosts = samples.filter(
        (s) => s.name === SCAPHANDRE_METRICS.host && s.labels.instance === instance,
      );
      const host = hosts[0];
      if (hosts.length === 1 && host && Number.isFinite(host.value)) {
        figures.push({
          scope: 'host',
          component: 'system',
          device: 'host',
          unit: 'watts',
          value: host.value * MICRO,
          timestampMs: host.timestampMs,
        });
      }
      const n = found.series.length;
      return {
        ok: true,
        figures,
        detail: `${found.what}${n > 1 ? ` (${n} processes)` : ''}${figures.length > 1 ? ', host power' : ', no host figure'}`,
      };
    },
  };
}
