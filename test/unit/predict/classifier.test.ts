import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createTestMetrics } from '#library-tests/helpers/metrics.js';
import {
  ModelNotLoadedError,
  NoFeaturesError,
  OnnxActivityClassifier,
  type Prediction,
} from '../../../src/predict/classifier.js';
import { LABELS } from '../../../src/predict/labels.js';
import { MODEL_FILE, modelVersion } from '../../../src/predict/model-info.js';
import { generateDataset } from '../../../tools/predict/dataset.js';
import { mlpProbabilities } from '../../../tools/predict/evaluate.js';
import { Mlp } from '../../../tools/predict/network.js';
import { mlpToOnnx } from '../../../tools/predict/onnx-export.js';
import {
  buildCard,
  evaluateModel,
  type TrainedModel,
  trainModel,
  writeModel,
} from '../../../tools/predict/pipeline.js';
import { poweredTracker } from './tracker.js';

describe('predict classifier', () => {
  describe('round trip: train a tiny model in a temp folder, export, load, predict', () => {
    let dir: string;
    let model: TrainedModel;
    const split = generateDataset({ seed: 9, perLabel: 60, testFraction: 0.2 });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'carbonscope-predict-'));
      model = await trainModel(split.train, {
        hidden: 8,
        training: { seed: 3, epochs: 10, batchSize: 16, learningRate: 0.02, weightDecay: 1e-5 },
      });
      const evaluation = await evaluateModel(model, split.test);
      const footprint = { durationSeconds: 0, energyJoules: null, emissionsGrams: null };
      writeModel(
        dir,
        model,
        buildCard(
          model,
          evaluation,
          { ...footprint, estimated: null, method: 'not measured' },
          {
            train: split.train.length,
            test: split.test.length,
            generator: {},
          },
        ),
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('serves the exported file with onnxruntime-node and matches the training forward pass', async () => {
      const { tracker } = poweredTracker(10, 1e-4);
      const metrics = createTestMetrics();
      const classifier = new OnnxActivityClassifier({
        tracker,
        meter: metrics.meter,
        modelPath: join(dir, MODEL_FILE),
      });
      await classifier.load();
      expect(classifier.model).to.equal(`activity-mlp@${modelVersion(model.onnx)}`);
      const sample = split.test.slice(0, 20);
      const expected = mlpProbabilities(model.mlp, sample);
      for (const [i, e] of sample.entries()) {
        const p = await classifier.classify(e.text);
        LABELS.forEach((label, c) => {
          expect(p.probabilities[label]).to.be.closeTo(expected[i][c], 1e-4);
        });
        const best = LABELS[expected[i].indexOf(Math.max(...expected[i]))];
        expect(p.label).to.equal(best);
      }
      await classifier.close();
      await metrics.shutdown();
    });
  });

  // As the app runs it: the inference duration in carbonscope's local histograms (the SDK's
  // own histogram is the path of test/integration/predict.test.ts).
  describe('the committed model', () => {
    const { tracker, ended, settle } = poweredTracker(10, 1e-4);
    const metrics = createTestMetrics({ local: true });
    const classifier = new OnnxActivityClassifier({
      tracker,
      meter: metrics.meter,
      histograms: metrics.histograms,
    });

    before(() => classifier.load());
    after(async () => {
      await classifier.close();
      await metrics.shutdown();
    });

    it('says "driving 10 hours" is high and "cycling to work" is low', async () => {
      expect((await classifier.classify('driving 10 hours')).label).to.equal('high');
      expect((await classifier.classify('cycling to work')).label).to.equal('low');
    });

    it('returns probabilities that sum to one, its duration, and its tracked energy', async () => {
      const p = await classifier.classify('eating 200 grams of beef');
      const sum = LABELS.reduce((s, l) => s + p.probabilities[l], 0);
      expect(sum).to.be.closeTo(1, 1e-5);
      expect(p.durationMs).to.be.greaterThan(0);
      // One operation alone at 10 W: its energy is 10 W × the time the tracker saw it run, which
      // spans the measured duration.
      expect(p.energyJoules).to.be.at.least((10 * p.durationMs) / 1000 - 1e-9);
      expect(p.energyJoules).to.be.below(10 * 1); // well under a second of 10 W
      expect(p.emissionsGrams).to.be.closeTo(p.energyJoules * 1e-4, 1e-12);
      expect(p.energyEstimated).to.equal(true);
      // Priced at the last sample's rate until the next one settles it.
      expect(p.energyProvisional).to.equal(true);
    });

    it('records carbonscope.inference.duration, carbonscope.predictions and the inference operation', async () => {
      const high = { carbonscope_prediction_label: 'high' };
      const before = (await metrics.value('carbonscope_predictions_total', high)) ?? 0;
      const count = (await metrics.value('carbonscope_inference_duration_seconds_count')) ?? 0;
      const inferences = () => ended.filter((f) => f.operation === 'inference').length;
      settle(); // the earlier tests' inferences
      const operations = inferences();
      await classifier.classify('flying 5 hours');
      await classifier.classify('driving 800 km');
      expect(inferences()).to.equal(operations); // reported once settled
      settle();
      const model = { carbonscope_model: classifier.model };
      expect(await metrics.value('carbonscope_predictions_total', { ...model, ...high })).to.equal(
        before + 2,
      );
      expect(await metrics.value('carbonscope_inference_duration_seconds_count', model)).to.equal(
        count + 2,
      );
      const text = await metrics.scrape();
      expect(text).to.match(/carbonscope_inference_duration_seconds_bucket\{[^}]*le="0\.0001"/);
      expect(inferences()).to.equal(operations + 2);
    });

    it('keeps concurrent requests apart although feature buffers are reused', async () => {
      const texts = [
        'driving 10 hours',
        'cycling to work',
        'buying a new laptop',
        'watching tv for 2 hours',
        'flying to another city',
        'sending 10 emails',
      ];
      const alone: Prediction[] = [];
      for (const t of texts) alone.push(await classifier.classify(t));
      const together = await Promise.all(
        [...texts, ...texts, ...texts].map((t) => classifier.classify(t)),
      );
      together.forEach((p, i) => {
        expect(p.probabilities).to.deep.equal(alone[i % texts.length].probabilities);
      });
    });

    it('refuses a text without words or numbers', async () => {
      let caught: unknown;
      await classifier.classify('!!! ???').catch((err: unknown) => {
        caught = err;
      });
      expect(caught).to.be.instanceOf(NoFeaturesError);
    });

    // A refused text ran no inference: counted as one, a client sending emoji could inflate the
    // inference count and dilute the energy and SCI per inference the operation metrics give.
    it('counts no inference operation for a text it refuses', async () => {
      const inferences = () => ended.filter((f) => f.operation === 'inference').length;
      settle();
      const operations = inferences();
      for (const text of ['!!! ???', '😀😀', ' ']) {
        await classifier.classify(text).catch(() => undefined);
      }
      settle();
      expect(inferences()).to.equal(operations);
    });
  });

  it('refuses to classify before the model is loaded', async () => {
    const metrics = createTestMetrics();
    const classifier = new OnnxActivityClassifier({
      tracker: poweredTracker(1, 0).tracker,
      meter: metrics.meter,
    });
    expect(classifier.model).to.equal('');
    let caught: unknown;
    await classifier.classify('driving').catch((err: unknown) => {
      caught = err;
    });
    expect(caught).to.be.instanceOf(ModelNotLoadedError);
    await metrics.shutdown();
  });

  it('refuses a model whose input does not fit the tokenizer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbonscope-predict-'));
    try {
      const wrong = Mlp.initialised({ inputs: 64, hidden: 4, outputs: 3 }, 1);
      const path = join(dir, 'wrong.onnx');
      writeFileSync(path, mlpToOnnx(wrong, { name: 'w', description: '', properties: {} }));
      const metrics = createTestMetrics();
      const classifier = new OnnxActivityClassifier({
        tracker: poweredTracker(1, 0).tracker,
        meter: metrics.meter,
        modelPath: path,
      });
      let caught: unknown;
      await classifier.load().catch((err: unknown) => {
        caught = err;
      });
      expect(String(caught)).to.match(/expected input "features" \[batch, 4096\]/);
      await metrics.shutdown();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
