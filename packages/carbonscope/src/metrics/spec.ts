import { prometheusBaseName } from './prometheus-name.js';

/** How a metric is recorded: synchronous instruments on the hot path, observable ones at collection. */
export type InstrumentKind = 'counter' | 'histogram' | 'observableCounter' | 'observableGauge';

/**
 * Where a metric's name and attributes come from: an OpenTelemetry semantic convention, or
 * carbonscope's own `carbonscope.*` namespace where there is none.
 */
export type Convention = 'semconv' | 'carbonscope';

/**
 * One metric, described once (Scaphandre's neutral metric list): the instruments are created
 * from it, and the README table, the Grafana generator and the tests read the same entry.
 */
export interface MetricSpec {
  /** The OTel instrument name, dotted; no unit in it (the unit field says it). */
  readonly name: string;
  readonly kind: InstrumentKind;
  /** UCUM, or a braced annotation for a count of things. */
  readonly unit: string;
  readonly description: string;
  /** Attribute keys, in the order the README lists them. */
  readonly attributes: readonly string[];
  readonly convention: Convention;
  /** Histograms: explicit bucket boundaries. */
  readonly buckets?: readonly number[];
}

/**
 * The name a user queries in Prometheus, the same on the app's /metrics and behind the OTel
 * Collector: the dotted name with underscores, the unit word (`_joules`, `_grams_per_second`),
 * and `_total` on a monotonic counter.
 */
export function prometheusName(spec: MetricSpec): string {
  const base = prometheusBaseName(spec.name, spec.unit, prometheusType(spec));
  return spec.kind === 'counter' || spec.kind === 'observableCounter' ? `${base}_total` : base;
}

/** The Prometheus type of the series a spec produces. */
export function prometheusType(spec: MetricSpec): 'counter' | 'gauge' | 'histogram' {
  if (spec.kind === 'histogram') return 'histogram';
  return spec.kind === 'observableGauge' ? 'gauge' : 'counter';
}

/** 1, 3 × 10^e for e in [from, to], ascending. */
export function logBuckets(fromExponent: number, toExponent: number): number[] {
  const out: number[] = [];
  for (let e = fromExponent; e <= toExponent; e++) {
    for (const m of [1, 3]) out.push(Number((m * 10 ** e).toPrecision(2)));
  }
  return out;
}
