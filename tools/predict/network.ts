import type { SparseFeatures } from '../../src/predict/tokenizer.js';
import { gaussian, seededRandom } from './rng.js';

export interface MlpShape {
  inputs: number;
  hidden: number;
  outputs: number;
}

/**
 * hashed features -> dense hidden layer (ReLU) -> softmax. Weights are row-major Float32Arrays
 * laid out as the ONNX export needs them: w1 is [inputs, hidden], w2 is [hidden, outputs].
 */
export class Mlp {
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2: Float32Array;
  readonly b2: Float32Array;

  constructor(
    readonly shape: MlpShape,
    weights?: { w1: Float32Array; b1: Float32Array; w2: Float32Array; b2: Float32Array },
  ) {
    const { inputs, hidden, outputs } = shape;
    this.w1 = weights?.w1 ?? new Float32Array(inputs * hidden);
    this.b1 = weights?.b1 ?? new Float32Array(hidden);
    this.w2 = weights?.w2 ?? new Float32Array(hidden * outputs);
    this.b2 = weights?.b2 ?? new Float32Array(outputs);
    const expect = [inputs * hidden, hidden, hidden * outputs, outputs];
    [this.w1, this.b1, this.w2, this.b2].forEach((array, i) => {
      if (array.length !== expect[i]) throw new Error(`weight ${i} has the wrong size`);
    });
  }

  /**
   * Seeded initialisation. Inputs have unit L2 norm, so N(0, 1) first-layer weights give
   * unit-variance pre-activations; the second layer uses He scaling.
   */
  static initialised(shape: MlpShape, seed: number): Mlp {
    const random = seededRandom(seed);
    const mlp = new Mlp(shape);
    for (let i = 0; i < mlp.w1.length; i++) mlp.w1[i] = gaussian(random);
    const scale = Math.sqrt(2 / shape.hidden);
    for (let i = 0; i < mlp.w2.length; i++) mlp.w2[i] = gaussian(random) * scale;
    return mlp;
  }

  get parameterCount(): number {
    return this.w1.length + this.b1.length + this.w2.length + this.b2.length;
  }

  /**
   * Forward pass on sparse features. Writes the hidden pre-activations (kept for backprop) and
   * the class probabilities into the given buffers.
   */
  forwardSparse(x: SparseFeatures, preHidden: Float32Array, probs: Float32Array): void {
    const { hidden } = this.shape;
    preHidden.set(this.b1);
    for (let k = 0; k < x.index.length; k++) {
      const row = x.index[k] * hidden;
      const v = x.value[k];
      for (let j = 0; j < hidden; j++) preHidden[j] += v * this.w1[row + j];
    }
    this.head(preHidden, probs);
  }

  /** Forward pass on a dense feature vector (what the ONNX graph computes). */
  forwardDense(x: Float32Array, preHidden: Float32Array, probs: Float32Array): void {
    const { hidden, inputs } = this.shape;
    preHidden.set(this.b1);
    for (let i = 0; i < inputs; i++) {
      const v = x[i];
      if (v === 0) continue;
      const row = i * hidden;
      for (let j = 0; j < hidden; j++) preHidden[j] += v * this.w1[row + j];
    }
    this.head(preHidden, probs);
  }

  /** ReLU, output layer and a numerically stable softmax. */
  private head(preHidden: Float32Array, probs: Float32Array): void {
    const { hidden, outputs } = this.shape;
    probs.set(this.b2);
    for (let j = 0; j < hidden; j++) {
      const h = Math.max(preHidden[j], 0);
      if (h === 0) continue;
      const row = j * outputs;
      for (let c = 0; c < outputs; c++) probs[c] += h * this.w2[row + c];
    }
    softmaxInPlace(probs);
  }
}

export function softmaxInPlace(values: Float32Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    values[i] = Math.exp(values[i] - max);
    sum += values[i];
  }
  for (let i = 0; i < values.length; i++) values[i] /= sum;
}
