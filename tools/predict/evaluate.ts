// Before onnxruntime-node: its telemetry is decided when it starts (see the module).
import '../../src/predict/ort-telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { argmax } from '../../src/predict/argmax.js';
import { LABELS, type Label } from '../../src/predict/labels.js';
import { ONNX_INPUT, ONNX_OUTPUT } from '../../src/predict/model-info.js';
import { encodeInto, TOKENIZER } from '../../src/predict/tokenizer.js';
import type { Example } from './dataset.js';
import type { Mlp } from './network.js';

/** Class probabilities for each example, one row of LABELS.length numbers per example. */
export type ProbabilityRows = Float32Array[];

/** The training code's own forward pass over a set of examples. */
export function mlpProbabilities(mlp: Mlp, examples: readonly Example[]): ProbabilityRows {
  const x = new Float32Array(mlp.shape.inputs);
  const pre = new Float32Array(mlp.shape.hidden);
  return examples.map((e) => {
    const probs = new Float32Array(mlp.shape.outputs);
    encodeInto(e.text, x);
    mlp.forwardDense(x, pre, probs);
    return probs;
  });
}

/** The exported ONNX model, run by onnxruntime-node, over a set of examples in one batch. */
export async function onnxProbabilities(
  model: Uint8Array | string,
  examples: readonly Example[],
): Promise<ProbabilityRows> {
  const session =
    typeof model === 'string'
      ? await ort.InferenceSession.create(model)
      : await ort.InferenceSession.create(model);
  try {
    const vocab = TOKENIZER.vocabSize;
    const batch = new Float32Array(examples.length * vocab);
    examples.forEach((e, i) => {
      encodeInto(e.text, batch.subarray(i * vocab, (i + 1) * vocab));
    });
    const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', batch, [examples.length, vocab]) };
    const out = (await session.run(feeds))[ONNX_OUTPUT].data as Float32Array;
    const n = LABELS.length;
    return examples.map((_, i) => out.slice(i * n, (i + 1) * n));
  } finally {
    await session.release();
  }
}

export interface Evaluation {
  accuracy: number;
  /** Accuracy within each true label. */
  perLabel: Record<Label, number>;
  /** confusion[true][predicted] = count. */
  confusion: Record<Label, Record<Label, number>>;
}

export function evaluate(examples: readonly Example[], rows: ProbabilityRows): Evaluation {
  const confusion = Object.fromEntries(
    LABELS.map((t) => [t, Object.fromEntries(LABELS.map((p) => [p, 0]))]),
  ) as Record<Label, Record<Label, number>>;
  let correct = 0;
  examples.forEach((e, i) => {
    const predicted = LABELS[argmax(rows[i])];
    confusion[e.label][predicted]++;
    if (predicted === e.label) correct++;
  });
  const perLabel = Object.fromEntries(
    LABELS.map((l) => {
      const total = LABELS.reduce((sum, p) => sum + confusion[l][p], 0);
      return [l, total === 0 ? 0 : confusion[l][l] / total];
    }),
  ) as Record<Label, number>;
  return { accuracy: examples.length ? correct / examples.length : 0, perLabel, confusion };
}

/** How far two runs of the same model disagree: label mismatches and largest probability gap. */
export function compareRows(a: ProbabilityRows, b: ProbabilityRows) {
  let labelMismatches = 0;
  let maxProbabilityDifference = 0;
  a.forEach((row, i) => {
    if (argmax(row) !== argmax(b[i])) labelMismatches++;
    row.forEach((p, c) => {
      maxProbabilityDifference = Math.max(maxProbabilityDifference, Math.abs(p - b[i][c]));
    });
  });
  return { labelMismatches, maxProbabilityDifference };
}
