import { SeenTemporality } from './binding/index.js';
import type { ExportResult, PushMetricExporter, ResourceMetrics } from './sdk/index.js';

/** The longest a Retry-After holds the pushes back: as long as the grid's rate limit may. */
export const MAX_RETRY_AFTER_HOLD_MS = 5 * 60_000;

/**
 * `inner`, whose pushes wait for the Retry-After a collector sent with its refusal (429, 503…):
 * the exporter honours it within a push, and the next came at the interval whatever was asked
 * (a `Retry-After: 10` at a 2 s interval had 3 more pushes refused). A push in the hold is
 * answered with that refusal, as the collector would have, without a request: only where it
 * carries cumulative figures, which the next push carries again. One with a delta sum goes out
 * as it would have: the reader took its figures when it called the export, and a push not sent
 * would drop them. For lastPushWithin's periodic pushes only: the last push, at the stop, has
 * an exporter of its own and is always tried, as is any push of otlpMetricExporter's own.
 */
export function heldForRetryAfter(
  inner: PushMetricExporter,
  /** performance.now()'s clock, as the refusal's retryAt. */
  now: () => number = () => performance.now(),
): PushMetricExporter {
  let refusal: ExportResult | undefined;
  let until = 0;
  return {
    export: (metrics, done) => {
      if (refusal !== undefined && now() < until && onlyCumulative(metrics)) {
        done(refusal);
        return;
      }
      inner.export(metrics, (result) => {
        const at = retryAtOf(result);
        refusal = at === undefined ? undefined : result;
        until = at === undefined ? 0 : Math.min(at, now() + MAX_RETRY_AFTER_HOLD_MS);
        done(result);
      });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  };
}

/** When a refusal asked to be tried again (exportsWithin reads it off the answer), if it did. */
function retryAtOf(result: ExportResult): number | undefined {
  const at = (result.error as { retryAt?: unknown } | undefined)?.retryAt;
  return typeof at === 'number' ? at : undefined;
}

function onlyCumulative(metrics: ResourceMetrics): boolean {
  const seen = new SeenTemporality();
  seen.see(metrics);
  return seen.value === 'cumulative';
}
