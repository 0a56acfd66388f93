import type {
  Counter,
  Histogram,
  Meter,
  ObservableCounter,
  ObservableGauge,
} from '@opentelemetry/api';
import type { MetricSpec } from './spec.js';

type Of<K> = K extends 'counter'
  ? Counter
  : K extends 'histogram'
    ? Histogram
    : K extends 'observableCounter'
      ? ObservableCounter
      : ObservableGauge;

/** Creates the instrument a spec describes on `meter`, with its unit, description and buckets. */
export function createInstrument<S extends MetricSpec>(meter: Meter, spec: S): Of<S['kind']> {
  const options = { description: spec.description, unit: spec.unit };
  switch (spec.kind) {
    case 'counter':
      return meter.createCounter(spec.name, options) as Of<S['kind']>;
    case 'histogram':
      return meter.createHistogram(spec.name, {
        ...options,
        advice: spec.buckets ? { explicitBucketBoundaries: [...spec.buckets] } : undefined,
      }) as Of<S['kind']>;
    case 'observableCounter':
      return meter.createObservableCounter(spec.name, options) as Of<S['kind']>;
    case 'observableGauge':
      return meter.createObservableGauge(spec.name, options) as Of<S['kind']>;
  }
}
