import { expect } from 'chai';
import { argmax } from '../../../src/predict/argmax.js';
import { LABELS } from '../../../src/predict/labels.js';
import { encodeSparse } from '../../../src/predict/tokenizer.js';
import { generateDataset } from '../../../tools/predict/dataset.js';
import { mlpToOnnx, onnxToMlp } from '../../../tools/predict/onnx-export.js';
import { trainMlp } from '../../../tools/predict/training.js';

const split = generateDataset({ seed: 5, perLabel: 60, testFraction: 0.2 });
const examples = split.train.map((e) => ({ x: encodeSparse(e.text), y: LABELS.indexOf(e.label) }));
const options = {
  shape: { inputs: 4096, hidden: 8, outputs: 3 },
  seed: 1,
  epochs: 12,
  batchSize: 16,
  learningRate: 0.02,
  weightDecay: 1e-5,
};

describe('predict network training', () => {
  it('lowers the loss and fits its training data', async () => {
    const losses: number[] = [];
    const mlp = await trainMlp(examples, { ...options, onEpoch: (_e, loss) => losses.push(loss) });
    expect(losses).to.have.length(options.epochs);
    expect(losses[losses.length - 1]).to.be.lessThan(losses[0] / 2);
    const pre = new Float32Array(8);
    const probs = new Float32Array(3);
    const correct = examples.filter((e) => {
      mlp.forwardSparse(e.x, pre, probs);
      return argmax(probs) === e.y;
    }).length;
    expect(correct / examples.length).to.be.greaterThan(0.9);
  });

  it('is deterministic: the same data and seed give the same weights, bit for bit', async () => {
    const a = await trainMlp(examples, options);
    const b = await trainMlp(examples, options);
    expect(Buffer.from(a.w1.buffer).equals(Buffer.from(b.w1.buffer))).to.equal(true);
    expect(Array.from(a.b2)).to.deep.equal(Array.from(b.b2));
    const c = await trainMlp(examples, { ...options, seed: 2 });
    expect(Array.from(c.b1)).to.not.deep.equal(Array.from(a.b1));
  });

  it('exports weights to ONNX and reads them back unchanged', async () => {
    const mlp = await trainMlp(examples.slice(0, 30), { ...options, epochs: 2 });
    const back = onnxToMlp(
      mlpToOnnx(mlp, { name: 't', description: 'test', properties: { k: 'v' } }),
    );
    expect(back.shape).to.deep.equal(mlp.shape);
    for (const key of ['w1', 'b1', 'w2', 'b2'] as const) {
      expect(Buffer.from(back[key].buffer).equals(Buffer.from(mlp[key].buffer)), key).to.equal(
        true,
      );
    }
  });
});
