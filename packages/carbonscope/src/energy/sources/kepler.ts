import type { ExporterFigure, ExporterSpec, Interpretation } from './exporter-source.js';
import type { SeriesSample } from './exposition.js';
import { type ContainerIdentity, describeIdentity } from './own-container.js';
import { promString } from './prometheus-query.js';
import type { Component } from './source.js';

/**
 * Kepler's metric names. Since 0.10 one counter per level with a `zone` label (RAPL's zone
 * names: package, core, uncore, dram, psys); containers carry `container_id`, `container_name`
 * and `pod_id`, and the pod's name and namespace are on the pod series. Up to 0.7 one counter
 * per component, with `container_id`, `container_name`, `container_namespace`, `pod_name` and a
 * `mode` of `dynamic` or `idle`.
 */
export const KEPLER_METRICS = {
  container: 'kepler_container_cpu_joules_total',
  pod: 'kepler_pod_cpu_joules_total',
  node: 'kepler_node_cpu_joules_total',
  legacyContainer: ['kepler_container_package_joules_total', 'kepler_container_dram_joules_total'],
  legacyNode: [
    'kepler_node_package_joules_total',
    'kepler_node_dram_joules_total',
    'kepler_node_platform_joules_total',
  ],
} as const;

const CONTAINER_NAMES = new Set<string>([
  KEPLER_METRICS.container,
  ...KEPLER_METRICS.legacyContainer,
]);
const NODE_NAMES = new Set<string>([KEPLER_METRICS.node, ...KEPLER_METRICS.legacyNode]);
const WANTED = new Set<string>([...CONTAINER_NAMES, ...NODE_NAMES, KEPLER_METRICS.pod]);

interface Part {
  component: Component;
  device: string;
  joules: number;
}

/** Where a legacy metric's energy goes: `kepler_node_dram_joules_total` → dram. */
function legacyPart(metric: string): Pick<Part, 'component' | 'device'> | undefined {
  if (metric.endsWith('_package_joules_total')) return { component: 'package', device: 'package' };
  if (metric.endsWith('_dram_joules_total')) return { component: 'dram', device: 'dram' };
  if (metric.endsWith('_platform_joules_total')) return { component: 'system', device: 'platform' };
  return undefined;
}

/**
 * Sums one container's (or node's) series as Kepler documents its zones: psys alone when
 * present (it covers the whole platform), otherwise package plus dram. core and uncore are
 * inside package and never added. Legacy metrics: platform alone when present, otherwise
 * package plus dram (every socket and mode the series hold). Undefined when none of these
 * zones is there.
 */
export function sumKeplerZones(series: readonly SeriesSample[]): Part[] | undefined {
  const parts = new Map<string, Part>();
  const add = (key: string, component: Component, device: string, joules: number) => {
    const p = parts.get(key);
    if (p) p.joules += joules;
    else parts.set(key, { component, device, joules });
  };
  for (const s of series) {
    if (!Number.isFinite(s.value)) continue;
    if (s.name === KEPLER_METRICS.container || s.name === KEPLER_METRICS.node) {
      const zone = (s.labels.zone ?? '').toLowerCase();
      // Kepler aggregates sockets into one series per zone; a second series of a zone
      // (another `path` of the same zone) is the same energy and is not added again.
      if (parts.has(zone)) continue;
      if (zone === 'psys')
        parts.set(zone, { component: 'system', device: 'psys', joules: s.value });
      else if (zone === 'package' || zone === 'dram') {
        parts.set(zone, { component: zone, device: zone, joules: s.value });
      }
      continue;
    }
    const part = legacyPart(s.name);
    if (part) add(part.device, part.component, part.device, s.value);
  }
  const whole = parts.get('psys') ?? parts.get('platform');
  if (whole) return [whole];
  const out = [parts.get('package'), parts.get('dram')].filter((p): p is Part => p !== undefined);
  return out.length ? out : undefined;
}

interface Container {
  id: string;
  name: string | undefined;
  podId: string | undefined;
  podName: string | undefined;
  namespace: string | undefined;
  legacy: boolean;
  series: SeriesSample[];
}

const idMatches = (label: string, id: string) =>
  label === id || (id.length < 64 && label.startsWith(id));

function containersOf(samples: readonly SeriesSample[]): Container[] {
  const byKey = new Map<string, Container>();
  for (const s of samples) {
    if (!CONTAINER_NAMES.has(s.name)) continue;
    const l = s.labels;
    if (l.state === 'terminated' || l.mode === 'idle') continue;
    const id = l.container_id;
    if (!id) continue;
    const legacy = s.name !== KEPLER_METRICS.container;
    const key = `${legacy ? 'legacy' : 'current'}|${id}`;
    let c = byKey.get(key);
    if (!c) {
      c = {
        id,
        name: l.container_name,
        podId: l.pod_id || undefined,
        podName: l.pod_name,
        namespace: l.container_namespace,
        legacy,
        series: [],
      };
      byKey.set(key, c);
    }
    c.series.push(s);
  }
  return [...byKey.values()];
}

/** Label values that tell which node (which Kepler) a series came from. */
const NODE_LABELS = ['node_name', 'instance'] as const;

function nodeSeries(samples: readonly SeriesSample[], of: Container): SeriesSample[] {
  const nodes = samples.filter(
    (s) =>
      NODE_NAMES.has(s.name) &&
      (of.legacy ? s.name !== KEPLER_METRICS.node : s.name === KEPLER_METRICS.node),
  );
  const first = of.series[0]?.labels ?? {};
  for (const label of NODE_LABELS) {
    const value = first[label];
    if (value !== undefined) return nodes.filter((s) => s.labels[label] === value);
  }
  // One Kepler's own /metrics: its node series are the only ones.
  const distinct = new Set(nodes.map((s) => NODE_LABELS.map((l) => s.labels[l]).join('|')));
  return distinct.size === 1 ? nodes : [];
}

/** This process's container among Kepler's, or why it cannot be told. */
export function findKeplerContainer(
  samples: readonly SeriesSample[],
  identity: ContainerIdentity,
): { container: Container } | { reason: string } {
  const all = containersOf(samples);
  const prefer = (found: Container[]) => found.find((c) => !c.legacy) ?? found[0];
  if (identity.containerId) {
    const byId = all.filter((c) => idMatches(c.id, identity.containerId ?? ''));
    const chosen = prefer(byId);
    if (chosen) return { container: chosen };
  }
  if (identity.podUid || (identity.podName && identity.podNamespace)) {
    const pods = new Map<string, { name?: string; namespace?: string }>();
    for (const s of samples) {
      if (s.name === KEPLER_METRICS.pod && s.labels.pod_id) {
        pods.set(s.labels.pod_id, { name: s.labels.pod_name, namespace: s.labels.pod_namespace });
      }
    }
    const inPod = all.filter((c) => {
      if (identity.podUid && c.podId === identity.podUid) return true;
      if (!identity.podName) return false;
      const pod = c.legacy ? { name: c.podName, namespace: c.namespace } : pods.get(c.podId ?? '');
      return pod?.name === identity.podName && pod.namespace === identity.podNamespace;
    });
    const named = identity.containerName
      ? inPod.filter((c) => c.name === identity.containerName)
      : inPod;
    const ids = [...new Set(named.map((c) => c.id))];
    if (ids.length === 1) return { container: prefer(named) as Container };
    if (ids.length > 1) {
      const names = [...new Set(named.map((c) => c.name ?? c.id.slice(0, 12)))].sort();
      return {
        reason: `the pod has ${ids.length} containers (${names.join(', ')}): set CONTAINER_NAME to this one's name, or KEPLER_CONTAINER_ID`,
      };
    }
  }
  if (!identity.containerId && !identity.podUid && !identity.podName) {
    return {
      reason: `this process does not know its container: no id in /proc/self/cgroup (${identity.cgroupRefused ?? 'a private cgroup namespace?'}); set POD_NAME and POD_NAMESPACE through the downward API, or KEPLER_CONTAINER_ID`,
    };
  }
  const ids = new Set(all.map((c) => c.id));
  return {
    reason: `no series for ${describeIdentity(identity)} among the ${ids.size} containers it reports`,
  };
}

/** Reads a Kepler exposition (or Prometheus' copy of it) for the container this process runs in. */
export function keplerSpec(identity: ContainerIdentity): ExporterSpec {
  return {
    name: 'kepler',
    wanted: (metric) => WANTED.has(metric),

    query() {
      const current = KEPLER_METRICS.container;
      const legacy = `{__name__=~"${KEPLER_METRICS.legacyContainer.join('|')}"`;
      const parts: string[] = [];
      if (identity.containerId) {
        const id =
          identity.containerId.length < 64
            ? `container_id=~${promString(`${identity.containerId}.*`)}`
            : `container_id=${promString(identity.containerId)}`;
        parts.push(`${current}{${id}}`, `${legacy},${id}}`);
      }
      if (identity.podUid) parts.push(`${current}{pod_id=${promString(identity.podUid)}}`);
      if (identity.podName && identity.podNamespace) {
        const pod = `${KEPLER_METRICS.pod}{pod_name=${promString(identity.podName)},pod_namespace=${promString(identity.podNamespace)}}`;
        parts.push(
          pod,
          `(${current} and on(pod_id) ${pod})`,
          `${legacy},pod_name=${promString(identity.podName)},container_namespace=${promString(identity.podNamespace)}}`,
        );
      }
      // Every node's few series: the one of this container's node is picked by its labels.
      parts.push(`{__name__=~"${[...NODE_NAMES].join('|')}"}`);
      return parts.join(' or ');
    },

    interpret(samples): Interpretation {
      const found = findKeplerContainer(samples, identity);
      if ('reason' in found) return { ok: false, kind: 'missing', reason: found.reason };
      const c = found.container;
      const own = sumKeplerZones(c.series);
      if (!own) {
        const zones = [...new Set(c.series.map((s) => s.labels.zone ?? s.name))].join(', ');
        return {
          ok: false,
          kind: 'missing',
          reason: `container ${c.id.slice(0, 12)} has no package, dram or psys energy (only ${zones})`,
        };
      }
      const stamp = (s: SeriesSample[]) => {
        const t = s.map((x) => x.timestampMs).filter((x): x is number => x !== undefined);
        return t.length ? Math.min(...t) : undefined;
      };
      const figures: ExporterFigure[] = own.map((p) => ({
        scope: 'process',
        component: p.component,
        device: p.device,
        unit: 'joules',
        value: p.joules,
        timestampMs: stamp(c.series),
      }));
      const nodeOf = nodeSeries(samples, c);
      const node = sumKeplerZones(nodeOf) ?? [];
      for (const p of node) {
        figures.push({
          scope: 'host',
          component: p.component,
          device: p.device,
          unit: 'joules',
          value: p.joules,
          timestampMs: stamp(nodeOf),
        });
      }
      const where = c.series[0]?.labels.node_name ?? c.series[0]?.labels.instance;
      const detail =
        `container ${c.id.slice(0, 12)}${c.name ? ` (${c.name})` : ''}` +
        `${where ? ` on ${where}` : ''}: ${own.map((p) => p.device).join('+')}` +
        `${node.length ? `, node ${node.map((p) => p.device).join('+')}` : ', no node figure'}` +
        `${c.legacy ? ' (Kepler ≤ 0.7 metric names)' : ''}`;
      return { ok: true, figures, detail };
    },
  };
}
