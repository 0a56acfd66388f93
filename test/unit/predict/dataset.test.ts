import { join } from 'node:path';
import { expect } from 'chai';
import { projectRoot } from '../../../src/paths.js';
import { LABELS } from '../../../src/predict/labels.js';
import { labelFor, THRESHOLDS_KG, travelKg } from '../../../tools/predict/activities.js';
import { DEFAULT_GENERATE, generateDataset, readExamples } from '../../../tools/predict/dataset.js';

describe('predict dataset rule and split', () => {
  it('labels by thresholds on kgCO2e', () => {
    expect(labelFor(0)).to.equal('low');
    expect(labelFor(THRESHOLDS_KG.middle - 1e-9)).to.equal('low');
    expect(labelFor(THRESHOLDS_KG.middle)).to.equal('middle');
    expect(labelFor(THRESHOLDS_KG.high - 1e-9)).to.equal('middle');
    expect(labelFor(THRESHOLDS_KG.high)).to.equal('high');
  });

  it('makes "driving 10 hours" high and "cycling to work" low', () => {
    expect(labelFor(travelKg('car', { hours: 10 }))).to.equal('high');
    expect(labelFor(travelKg('bicycle', { trip: 'to work' }))).to.equal('low');
  });

  it('generates the same split from the same seed, balanced, with no text in both parts', () => {
    const options = { seed: 11, perLabel: 200, testFraction: 0.25 };
    const a = generateDataset(options);
    const b = generateDataset(options);
    expect(a).to.deep.equal(b);
    expect(generateDataset({ ...options, seed: 12 }).train).to.not.deep.equal(a.train);
    for (const label of LABELS) {
      expect(a.train.filter((e) => e.label === label)).to.have.length(150);
      expect(a.test.filter((e) => e.label === label)).to.have.length(50);
    }
    const trainTexts = new Set(a.train.map((e) => e.text));
    expect(a.test.filter((e) => trainTexts.has(e.text))).to.deep.equal([]);
  });

  it('commits exactly what the documented rule and seed generate', () => {
    const train = readExamples(join(projectRoot, 'tools', 'predict', 'data', 'train.jsonl'));
    const test = readExamples(join(projectRoot, 'tools', 'predict', 'data', 'test.jsonl'));
    const generated = generateDataset(DEFAULT_GENERATE);
    expect(train).to.deep.equal(generated.train);
    expect(test).to.deep.equal(generated.test);
    expect(train.length + test.length).to.be.within(2000, 10_000);
    for (const e of [...train, ...test]) expect(labelFor(e.kgCO2e), e.text).to.equal(e.label);
  });
});
