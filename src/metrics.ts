import type { MetricSpec } from 'carbonscope';

/** Inference takes tens of microseconds to a few milliseconds: buckets fine enough to see it. */
export const INFERENCE_BUCKETS_SECONDS = [
  0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1,
];

/** The app's own metrics, beside the library's table (METRICS): /predict's. */
export const APP_METRICS = {
  inferenceDuration: {
    name: 'inference_duration_seconds',
    kind: 'histogram',
    unit: 's',
    description: 'Time to classify one activity (features + ONNX run), by model',
    attributes: ['model'],
    buckets: INFERENCE_BUCKETS_SECONDS,
  },
  predictions: {
    name: 'predictions',
    kind: 'counter',
    unit: '{prediction}',
    description: 'Activities classified, by model and predicted label',
    attributes: ['model', 'label'],
  },
} as const satisfies Record<string, MetricSpec>;
