import type { SparseFeatures } from '../../src/predict/tokenizer.js';
import { Mlp, type MlpShape } from './network.js';
import { seededRandom, shuffleInPlace } from './rng.js';

export interface TrainingExample {
  x: SparseFeatures;
  /** Index of the true class. */
  y: number;
}

export interface TrainingOptions {
  shape: MlpShape;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on the weights (not the biases). */
  weightDecay: number;
  /** Called after every epoch with its mean training loss. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

export const DEFAULT_TRAINING: Omit<TrainingOptions, 'shape'> = {
  seed: 7,
  epochs: 30,
  batchSize: 32,
  learningRate: 0.01,
  weightDecay: 1e-5,
};

/** Adam state for one parameter array. */
class AdamSlot {
  readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;

  constructor(
    readonly param: Float32Array,
    private readonly decay: number,
  ) {
    this.grad = new Float32Array(param.length);
    this.m = new Float32Array(param.length);
    this.v = new Float32Array(param.length);
  }

  step(lr: number, t: number, batch: number): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** t;
    const c2 = 1 - b2 ** t;
    const { param, grad, m, v } = this;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i] / batch + this.decay * param[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      param[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + 1e-8);
    }
    grad.fill(0);
  }
}

/**
 * Mini-batch Adam on softmax cross-entropy. Every random choice (initialisation, epoch order)
 * comes from the seed and JS float arithmetic is deterministic, so the same data and options
 * give the same weights, bit for bit. It yields to the event loop after each epoch so timers
 * (the energy meter's sampling among them) keep running while it trains.
 */
export async function trainMlp(
  examples: readonly TrainingExample[],
  options: TrainingOptions,
): Promise<Mlp> {
  const { shape } = options;
  const mlp = Mlp.initialised(shape, options.seed);
  const random = seededRandom(options.seed + 1);
  const slots = {
    w1: new AdamSlot(mlp.w1, options.weightDecay),
    b1: new AdamSlot(mlp.b1, 0),
    w2: new AdamSlot(mlp.w2, options.weightDecay),
    b2: new AdamSlot(mlp.b2, 0),
  };
  const preHidden = new Float32Array(shape.hidden);
  const probs = new Float32Array(shape.outputs);
  const dHidden = new Float32Array(shape.hidden);
  const order = examples.map((_, i) => i);
  let t = 0;
  for (let epoch = 1; epoch <= options.epochs; epoch++) {
    shuffleInPlace(order, random);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += options.batchSize) {
      const end = Math.min(order.length, start + options.batchSize);
      for (let n = start; n < end; n++) {
        const example = examples[order[n]];
        mlp.forwardSparse(example.x, preHidden, probs);
        lossSum -= Math.log(Math.max(probs[example.y], 1e-12));
        accumulate(mlp, example, preHidden, probs, dHidden, slots);
      }
      t++;
      for (const slot of Object.values(slots)) slot.step(options.learningRate, t, end - start);
    }
    options.onEpoch?.(epoch, lossSum / order.length);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return mlp;
}

/** Adds one example's cross-entropy gradients to the slots. */
function accumulate(
  mlp: Mlp,
  example: TrainingExample,
  preHidden: Float32Array,
  probs: Float32Array,
  dHidden: Float32Array,
  slots: Record<'w1' | 'b1' | 'w2' | 'b2', AdamSlot>,
): void {
  const { hidden, outputs } = mlp.shape;
  // d loss / d logits = p - onehot(y)
  probs[example.y] -= 1;
  dHidden.fill(0);
  for (let j = 0; j < hidden; j++) {
    const h = Math.max(preHidden[j], 0);
    const row = j * outputs;
    for (let c = 0; c < outputs; c++) {
      slots.w2.grad[row + c] += h * probs[c];
      if (preHidden[j] > 0) dHidden[j] += mlp.w2[row + c] * probs[c];
    }
  }
  for (let c = 0; c < outputs; c++) slots.b2.grad[c] += probs[c];
  for (let j = 0; j < hidden; j++) slots.b1.grad[j] += dHidden[j];
  const { index, value } = example.x;
  for (let k = 0; k < index.length; k++) {
    const row = index[k] * hidden;
    const v = value[k];
    for (let j = 0; j < hidden; j++) slots.w1.grad[row + j] += v * dHidden[j];
  }
}
