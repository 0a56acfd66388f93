import type { PushMetricExporter } from './optional-sdk.js';

type ResourceMetrics = Parameters<PushMetricExporter['export']>[0];

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
 * What a last push that does not get through drops, with how much where known: the collector
 * counted nothing since the last push that got through (OTLP's figures are cumulative, a last
 * push has them all).
 */
export function droppedText(counts: ExportCounts | undefined): string {
  const since = 'since the last push that got through';
  return counts
    ? `dropped ${counts.points} data points of ${counts.metrics} metrics (what was counted ${since})`
    : `dropped what was counted ${since}`;
}
