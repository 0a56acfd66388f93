import {
  type ExportResult,
  failureOf,
  type PushMetricExporter,
  type ResourceMetrics,
} from '../sdk/index.js';

/**
 * The most delta points kept from failed pushes to send again: about 40 pushes of register's
 * own metrics with a few hundred series. A histogram's point counts as one whatever its buckets:
 * ~2 MB of explicit-bucket points (16 buckets), ~10–20 MB of exponential ones (85–160 buckets,
 * measured in stop 80's review), and up to twice that with a push in flight. Past it the oldest
 * go first.
 */
export const CARRIED_POINTS_MAX = 10_000;

/** AggregationTemporality.DELTA and DataPointType.GAUGE of @opentelemetry/sdk-metrics (2.x, 3.x). */
const DELTA = 0;
const GAUGE = 2;

type ScopeMetrics = ResourceMetrics['scopeMetrics'][number];
type Metric = ScopeMetrics['metrics'][number];

/** One metric's delta points a failed push carried, under its scope. */
interface Kept {
  scope: ScopeMetrics['scope'];
  metric: Metric;
  /** Which export collected it: two in flight may fail in either order, kept in this one. */
  seq: number;
}

/**
 * A push the collector refused as malformed (HTTP 400): the same data would be refused again, so
 * it is not kept to send again (OTLP/HTTP: 400 is not retryable).
 */
export function refusedAsMalformed(result: ExportResult): boolean {
  if (failureOf(result) === undefined) return false;
  try {
    return (result.error as { code?: unknown } | undefined)?.code === 400;
  } catch {
    // An error whose property throws (a Proxy) tells no status: kept, as any other failure.
    return false;
  }
}

/** The delta sums and histograms of `metrics`: gauges are current values, cumulative go again. */
function deltasOf(metrics: ResourceMetrics, seq: number): Kept[] {
  const kept: Kept[] = [];
  for (const { scope, metrics: list } of metrics.scopeMetrics) {
    for (const metric of list) {
      const delta = metric.aggregationTemporality === DELTA && metric.dataPointType !== GAUGE;
      if (delta && metric.dataPoints.length > 0) kept.push({ scope, metric, seq });
    }
  }
  return kept;
}

const scopeKey = ({ name, version, schemaUrl }: ScopeMetrics['scope']) =>
  `${name}\u0000${version ?? ''}\u0000${schemaUrl ?? ''}`;
const metricKey = (m: Metric) =>
  `${m.descriptor.name}\u0000${m.dataPointType}\u0000${m.aggregationTemporality}`;

/**
 * `metrics` with the kept points in it, each before the export's own of its metric (older first,
 * as alignedDeltaStarts and a consumer that adds deltas in order need them). One ScopeMetrics a
 * scope and one Metric a metric: a request that named a scope or a metric twice is valid OTLP,
 * but a consumer keyed on them (a Collector's exporter, a backend) may take the second for the
 * first. New objects: the SDK's and the kept ones are left as they are.
 */
function withCarried(metrics: ResourceMetrics, carried: readonly Kept[]): ResourceMetrics {
  const scopes = new Map<string, { scope: ScopeMetrics['scope']; metrics: Map<string, Metric> }>();
  const add = (scope: ScopeMetrics['scope'], metric: Metric) => {
    const sk = scopeKey(scope);
    let entry = scopes.get(sk);
    if (entry === undefined) {
      entry = { scope, metrics: new Map() };
      scopes.set(sk, entry);
    }
    const mk = metricKey(metric);
    const before = entry.metrics.get(mk);
    const dataPoints = before ? [...before.dataPoints, ...metric.dataPoints] : metric.dataPoints;
    entry.metrics.set(mk, { ...(before ?? metric), dataPoints } as Metric);
  };
  for (const { scope, metric } of carried) add(scope, metric);
  for (const { scope, metrics: list } of metrics.scopeMetrics) {
    for (const metric of list) add(scope, metric);
  }
  const scopeMetrics = [...scopes.values()].map(({ scope, metrics: m }) => ({
    scope,
    metrics: [...m.values()],
  }));
  return { ...metrics, scopeMetrics };
}

const pointsOf = (kept: readonly Kept[]) =>
  kept.reduce((n, k) => n + k.metric.dataPoints.length, 0);

/**
 * `exporter`, the delta points of a push that failed sent again with the next export (the last
 * one at the stop included): the SDK hands a delta point over once, so a push refused by a
 * collector that is down (after the exporter's retries), timed out or not connected lost them
 * for good. Each point keeps its own start and end, so beside the next interval's it is valid
 * OTLP, and the collector adds it up as it would have. Taken out when a push carries them:
 * never sent twice once a push got through, nor by two pushes at once; given back, older first,
 * where that push fails too. Not kept where the collector refused the push as malformed
 * (refusedAsMalformed). At most `maxPoints` are kept, the oldest dropped past it: `warn` says
 * so once an outage, and the total when pushes get through again where more went since; its
 * `points` are those a line tells that no earlier one did (their sum is all the cap dropped;
 * 0 for a push refused as malformed, which its caller counts as lost with all it carried).
 * A push that timed out may have arrived all the same: its points then count twice.
 */
export function carryingFailedDeltas(
  exporter: PushMetricExporter,
  warn: (text: string, points: number) => void,
  maxPoints = CARRIED_POINTS_MAX,
): PushMetricExporter {
  let kept: Kept[] = [];
  let keptPoints = 0;
  /** Points the cap dropped in this outage, and how many of them a line told. */
  let dropped = 0;
  let told = 0;
  let exports = 0;

  const keep = (again: Kept[]) => {
    // Older first (a stable sort): what the cap drops, and the order the next export sends.
    kept = [...kept, ...again].sort((a, b) => a.seq - b.seq);
    keptPoints += pointsOf(again);
    let over = 0;
    while (keptPoints > maxPoints && kept.length > 0) {
      const [oldest] = kept.splice(0, 1);
      const points = oldest?.metric.dataPoints.length ?? 0;
      keptPoints -= points;
      over += points;
    }
    if (over === 0) return;
    dropped += over;
    if (told > 0) return;
    told = dropped;
    warn(
      `dropped ${over} delta data points that failed pushes carried, the oldest: over the ${maxPoints} kept to send again`,
      over,
    );
  };

  const succeeded = () => {
    if (dropped > told) {
      warn(
        `dropped ${dropped} delta data points in all while pushes failed (over the ${maxPoints} kept to send again)`,
        dropped - told,
      );
    }
    dropped = 0;
    told = 0;
  };

  return {
    export: (metrics, done) => {
      const seq = ++exports;
      const carried = kept;
      kept = [];
      keptPoints = 0;
      const sent = carried.length > 0 ? withCarried(metrics, carried) : metrics;
      exporter.export(sent, (result) => {
        if (failureOf(result) === undefined) succeeded();
        else if (!refusedAsMalformed(result)) keep([...carried, ...deltasOf(metrics, seq)]);
        else if (carried.length > 0) {
          // The push line told these as carried again (the outage's first failure), not lost.
          warn(
            `dropped ${pointsOf(carried)} delta data points that failed pushes carried: the push that carried them again was refused as malformed (HTTP 400)`,
            // Not summed with the cap's: `run`'s end line says what that push carried is lost.
            0,
          );
        }
        done(result);
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    // The reader takes the exporter's choices (OTLP's temporality preference) when it has them.
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}
