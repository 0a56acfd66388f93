import type { MetricSpec } from 'carbonscope';

/** Inference takes tens of microseconds to a few milliseconds: buckets fine enough to see it. */
export const INFERENCE_BUCKETS_SECONDS = [
  0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1,
];

/** The app's own metrics, beside the library's table (METRICS): /predict's. */
export const APP_METRICS = {
  inferenceDuration: {
    name: 'carbonscope.inference.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time to classify one activity (features + ONNX run), by model',
    attributes: ['carbonscope.model'],
    convention: 'carbonscope',
    buckets: INFERENCE_BUCKETS_SECONDS,
  },
  predictions: {
    name: 'carbonscope.predictions',
    // Counted in place and read at collection: an SDK counter hashes its attributes per add.
    kind: 'observableCounter',
    unit: '{prediction}',
    description: 'Activities classified, by model and predicted label',
    attributes: ['carbonscope.model', 'carbonscope.prediction.label'],
    convention: 'carbonscope',
  },
} as const satisfies Record<string, MetricSpec>;
