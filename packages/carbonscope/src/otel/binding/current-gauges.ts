import { typeOf } from '../../argument-checks.js';
import { checkSdkModule } from './config-checks.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type AggregationTemporalitySelector =
  import('@opentelemetry/sdk-metrics').AggregationTemporalitySelector;
type IMetricReader = import('@opentelemetry/sdk-metrics').IMetricReader;

/** What the selector needs of the SDK, which the library loads only where it is installed. */
export type TemporalitySdk = Pick<SdkMetrics, 'AggregationTemporality' | 'InstrumentType'>;

/**
 * `base`'s temporality for every instrument but observable gauges, which get DELTA. Under
 * CUMULATIVE the SDK (sdk-metrics 2.x) merges each collection into the previous one, so a gauge
 * keeps exporting, at its last value, every attribute set its callback ever observed: the
 * grid intensity's `annual-average` series stayed beside `electricity-maps` after the API
 * recovered. The spec says an SDK SHOULD NOT export an attribute set the current callback did
 * not observe. Under DELTA it exports the current collection's observations only. A gauge has
 * no temporality in OTLP (a gauge point) nor in Prometheus (`gauge`): nothing else changes but
 * the points' start time (the previous collection). Counters keep `base`'s (cumulative for
 * Prometheus).
 */
export function currentGaugeTemporality(
  sdk: TemporalitySdk,
  base: AggregationTemporalitySelector = () => sdk.AggregationTemporality.CUMULATIVE,
): AggregationTemporalitySelector {
  return (type) =>
    type === sdk.InstrumentType.OBSERVABLE_GAUGE ? sdk.AggregationTemporality.DELTA : base(type);
}

/**
 * `reader`, its observable gauges exporting only what their callbacks observe now (see
 * currentGaugeTemporality), its other instruments as before. Works on any reader, before it is
 * given to a meter provider: PrometheusExporter fixes CUMULATIVE in its constructor and takes no
 * selector, and PeriodicExportingMetricReader takes its exporter's, so the reader's own method
 * is the one hook they share.
 */
export function withCurrentGauges<R extends IMetricReader>(sdk: TemporalitySdk, reader: R): R {
  checkSdkModule(sdk, 'withCurrentGauges', ['AggregationTemporality', 'InstrumentType']);
  if (typeof (reader as Partial<R> | null)?.selectAggregationTemporality !== 'function') {
    throw new TypeError(
      'withCurrentGauges: the reader must be a metric reader (a PrometheusExporter, a ' +
        `PeriodicExportingMetricReader), got ${typeOf(reader)}`,
    );
  }
  const base = reader.selectAggregationTemporality.bind(reader);
  reader.selectAggregationTemporality = currentGaugeTemporality(sdk, base);
  return reader;
}
