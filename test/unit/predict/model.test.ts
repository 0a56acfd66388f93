import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot, sourceAsset } from '../../../src/paths.js';
import { CARD_JSON, MODEL_FILE, modelVersion } from '../../../src/predict/model-info.js';
import { readExamples } from '../../../tools/predict/dataset.js';
import {
  compareRows,
  evaluate,
  mlpProbabilities,
  onnxProbabilities,
} from '../../../tools/predict/evaluate.js';
import { onnxToMlp } from '../../../tools/predict/onnx-export.js';

const modelPath = sourceAsset('predict', 'model', MODEL_FILE);
const test = readExamples(join(projectRoot, 'tools', 'predict', 'data', 'test.jsonl'));

describe('predict: the committed model', () => {
  it('is small and described by its card', () => {
    const bytes = readFileSync(modelPath);
    expect(bytes.byteLength).to.be.lessThan(512 * 1024);
    const card = JSON.parse(readFileSync(sourceAsset('predict', 'model', CARD_JSON), 'utf8'));
    expect(card.version).to.equal(modelVersion(bytes));
    expect(card.sizeBytes).to.equal(bytes.byteLength);
    expect(card.data.test).to.equal(test.length);
    expect(card.footprint.durationSeconds).to.be.greaterThan(0);
  });

  it('scores at least 90 % on the committed test split (run by onnxruntime-node)', async () => {
    const result = evaluate(test, await onnxProbabilities(modelPath, test));
    expect(test.length).to.be.greaterThan(500);
    expect(result.accuracy).to.be.at.least(0.9);
  });

  it('agrees with the training code forward pass on the whole test split', async () => {
    const ours = mlpProbabilities(onnxToMlp(readFileSync(modelPath)), test);
    const theirs = await onnxProbabilities(modelPath, test);
    const { labelMismatches, maxProbabilityDifference } = compareRows(ours, theirs);
    expect(labelMismatches).to.equal(0);
    expect(maxProbabilityDifference).to.be.below(1e-4);
  });
});
