import type { ResourceMetrics } from '../sdk/index.js';

/** How much one export carries, to say what a failed last push dropped. */
export interface ExportCounts {
  points: number;
  metrics: number;
}

/** The data points and metrics of one export. */
export function countsOf(metrics: ResourceMetrics): ExportCounts {
  let points = 0;
  let count = 0;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      count += 1;
      points += metric.dataPoints.length;
    }
  }
  return { points, metrics: count };
}

/**
 * How the exports' sums and histograms are expressed: all cumulative (OTLP's default), all
 * delta (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta), or some of each (lowmemory
 * keeps observable and up-down counters cumulative; carbonscope's own histograms follow the
 * preference, as the SDK's do).
 */
export type Temporality = 'cumulative' | 'delta' | 'mixed';

/**
 * AggregationTemporality.DELTA and DataPointType.GAUGE of @opentelemetry/sdk-metrics (2.x and
 * 3.x alike): an optional peer, not imported for two numbers.
 */
const DELTA = 0;
const GAUGE = 2;

/**
 * The temporality the exports seen so far show. Read from the exports, not the preference: the
 * reader may mix both. Gauges are no evidence (withCurrentGauges makes them delta under any
 * preference), and what was seen once stays: an export may carry no sum that changed.
 */
export class SeenTemporality {
  private delta = false;
  private cumulative = false;

  see(metrics: ResourceMetrics): void {
    for (const scope of metrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.dataPointType === GAUGE) continue;
        if (metric.aggregationTemporality === DELTA) this.delta = true;
        else this.cumulative = true;
      }
    }
  }

  get value(): Temporality {
    if (!this.delta) return 'cumulative';
    return this.cumulative ? 'mixed' : 'delta';
  }
}

/**
 * What a failed push that a next export follows leaves: under cumulative temporality nothing
 * (the next push carries the totals); under delta what it carried, unless `carried`
 * (carryingFailedDeltas sends it again with the next export), and even then where the collector
 * refused it as malformed (`malformed`: sent again it would be refused again).
 */
export function retryText(temporality: Temporality, carried = false, malformed = false): string {
  if (temporality === 'cumulative') return 'the next export tries again';
  const of = temporality === 'mixed' ? ' of its delta metrics' : '';
  if (carried && malformed) {
    return `what each push refused as malformed carried${of} is lost: it is not sent again`;
  }
  if (carried) return 'the next export carries what each failed push carried again';
  return temporality === 'delta'
    ? 'what each failed push carried is lost (delta temporality)'
    : 'what each failed push carried of its delta metrics is lost, the next export carries the others again';
}

/**
 * Since when a last push that fails leaves the collector without what was counted: where failed
 * pushes' delta points are `carried`, the last push carries them too, as a cumulative one would.
 */
function sinceText(temporality: Temporality, carried: boolean): string {
  switch (carried ? 'cumulative' : temporality) {
    case 'cumulative':
      // A cumulative push carries the totals: all since the last one the collector took.
      return 'since the last push that got through';
    case 'delta':
      // A delta push carries what was counted since the push before it, taken or not.
      return 'since the previous push';
    case 'mixed':
      return 'since the previous push, for cumulative metrics since the last push that got through';
  }
}

/** What a last push that does not get through drops, with how much where known. */
export function droppedText(
  counts: ExportCounts | undefined,
  temporality: Temporality = 'cumulative',
  carried = false,
): string {
  const since = sinceText(temporality, carried);
  return counts
    ? `dropped ${counts.points} data points of ${counts.metrics} metrics (what was counted ${since})`
    : `dropped what was counted ${since}`;
}
