import { expect } from 'chai';
import { loadCatalog } from '../../../src/llm/catalog.js';
import {
  computeImpacts,
  type DataCenter,
  type ElectricityMix,
  gpuCount,
  type ImpactInput,
  type Impacts,
  mean,
} from '../../../src/llm/impacts.js';

const catalog = loadCatalog();
const sig4 = (x: number) => Number(x.toPrecision(4));

function impactsFor(
  provider: string,
  model: string,
  tokens: number,
  latency: number | undefined,
): Impacts {
  const r = catalog.resolve(provider, model);
  return computeImpacts({
    architecture: r.model.architecture,
    outputTokens: tokens,
    requestLatencySeconds: latency,
    dataCenter: r.dataCenter,
    mix: r.mix,
  });
}

const USA: ElectricityMix = catalog.mix('USA');
const OPENAI_DC: DataCenter = catalog.dataCenter('openai').dataCenter;

describe('llm impacts (EcoLogits method)', () => {
  describe("the facts sheet's worked example: openai/gpt-4o, 100 tokens, 100 s", () => {
    const i = impactsFor('openai', 'gpt-4o', 100, 100);
    const expectRange = (actual: { min: number; max: number }, min: number, max: number) => {
      expect(sig4(actual.min)).to.equal(sig4(min));
      expect(sig4(actual.max)).to.equal(sig4(max));
    };

    it('holds the model on 16 GPUs for about 6.93 s at the lower bound', () => {
      expect(i.gpuCount).to.deep.equal({ min: 16, max: 16 });
      expect(Number(i.generationLatencySeconds.min.toFixed(2))).to.equal(6.93);
    });
    it('energy 2.1253e-4 – 3.8338e-4 kWh', () => {
      expectRange(i.energy, 2.1253e-4, 3.8338e-4);
      expect(i.energy.unit).to.equal('kWh');
    });
    it('GWP 9.7567e-5 – 1.7692e-4 kgCO2eq, usage and embodied as stated', () => {
      expectRange(i.gwp, 9.7567e-5, 1.7692e-4);
      expectRange(i.usage.gwp, 8.1518e-5, 1.4705e-4);
      expectRange(i.embodied.gwp, 1.6049e-5, 2.9878e-5);
      expect(i.gwp.unit).to.equal('kgCO2eq');
    });
    it('PE 2.2528e-3 – 4.0749e-3 MJ', () => {
      expectRange(i.pe, 2.2528e-3, 4.0749e-3);
    });
    it('totals are usage + embodied; energy and water are usage only', () => {
      for (const k of ['gwp', 'adpe', 'pe'] as const) {
        expect(i[k].min).to.be.closeTo(i.usage[k].min + i.embodied[k].min, 1e-18);
        expect(i[k].max).to.be.closeTo(i.usage[k].max + i.embodied[k].max, 1e-18);
      }
      expect(i.energy).to.deep.equal(i.usage.energy);
      expect(i.wcf).to.deep.equal(i.usage.wcf);
    });
    it('water = E × (WUE on-site + PUE × mix WUE)', () => {
      expect(i.wcf.min).to.be.closeTo(i.energy.min * (0.569 + 1.2 * 3.1321), 1e-15);
      expect(i.wcf.unit).to.equal('L');
    });
  });

  it('a dense model with a scalar parameter count gives min = max', () => {
    const i = impactsFor('mistralai', 'mistral-large-latest', 250, 20);
    for (const c of [i.energy, i.gwp, i.adpe, i.pe, i.wcf, i.embodied.gwp, i.embodied.pe]) {
      expect(c.min).to.be.greaterThan(0);
      expect(c.min).to.equal(c.max);
    }
    expect(mean(i.energy)).to.equal(i.energy.min);
  });

  it('a provider with a PUE (and WUE) range gives a range, with the PUE ratio on energy', () => {
    const dc = catalog.dataCenter('anthropic').dataCenter;
    const i = computeImpacts({
      architecture: { type: 'dense', parameters: 70 },
      outputTokens: 200,
      requestLatencySeconds: undefined,
      dataCenter: dc,
      mix: USA,
    });
    expect(i.energy.max).to.be.greaterThan(i.energy.min);
    expect(i.energy.max / i.energy.min).to.be.closeTo(1.14 / 1.09, 1e-12);
    expect(i.wcf.max).to.be.greaterThan(i.wcf.min);
    // The hardware's embodied share does not depend on the data centre's efficiency.
    expect(i.embodied.gwp.min).to.equal(i.embodied.gwp.max);
  });

  it('the embodied part grows with latency until the modelled latency, then stays flat', () => {
    // mistral-large-latest (123 B, dense): modelled ΔT = 100 × f_L(123) ≈ 12.3 s.
    const embodied = (latency: number | undefined) =>
      impactsFor('mistralai', 'mistral-large-latest', 100, latency).embodied.gwp.min;
    const modelled = impactsFor('mistralai', 'mistral-large-latest', 100, undefined)
      .generationLatencySeconds.min;
    expect(modelled).to.be.closeTo(12.29, 0.01);
    const rising = [1, 3, 6, 12].map(embodied);
    for (let k = 1; k < rising.length; k++) expect(rising[k]).to.be.greaterThan(rising[k - 1]);
    expect(embodied(6) / embodied(3)).to.be.closeTo(2, 1e-12);
    const flat = [modelled, 13, 100, 10_000, undefined].map(embodied);
    for (const v of flat) expect(v).to.equal(flat[0]);
    expect(flat[0]).to.be.greaterThan(rising[rising.length - 1]);
  });

  it('mixture of experts: the total count sets the GPUs, the active count sets energy and latency', () => {
    const base: Omit<ImpactInput, 'architecture'> = {
      outputTokens: 100,
      requestLatencySeconds: undefined,
      dataCenter: OPENAI_DC,
      mix: USA,
    };
    const moe = computeImpacts({ ...base, architecture: { type: 'moe', total: 440, active: 44 } });
    const dense = computeImpacts({ ...base, architecture: { type: 'dense', parameters: 44 } });
    expect(moe.gpuCount.min).to.equal(16);
    expect(dense.gpuCount.min).to.equal(2);
    expect(moe.generationLatencySeconds).to.deep.equal(dense.generationLatencySeconds);
    expect(moe.energy.min).to.be.greaterThan(dense.energy.min);
    const moreActive = computeImpacts({
      ...base,
      architecture: { type: 'moe', total: 440, active: 132 },
    });
    expect(moreActive.gpuCount.min).to.equal(16);
    expect(moreActive.energy.min).to.be.greaterThan(moe.energy.min);
  });

  it('rounds the GPU count up to a power of two', () => {
    expect(gpuCount(8)).to.equal(1); // 19.2 GB
    expect(gpuCount(70)).to.equal(4); // 168 GB -> 3 -> 4
    expect(gpuCount(440)).to.equal(16); // 1056 GB -> 14 -> 16
    expect(gpuCount(2000)).to.equal(64); // 4800 GB -> 60 -> 64
  });

  it('a user-chosen mix zone changes usage impacts only', () => {
    const r = catalog.resolve('openai', 'gpt-4o', 'FRA');
    expect(r.zone).to.equal('FRA');
    const fra = computeImpacts({
      architecture: r.model.architecture,
      outputTokens: 100,
      requestLatencySeconds: 100,
      dataCenter: r.dataCenter,
      mix: r.mix,
    });
    const usa = impactsFor('openai', 'gpt-4o', 100, 100);
    expect(fra.energy).to.deep.equal(usa.energy);
    expect(fra.embodied).to.deep.equal(usa.embodied);
    expect(fra.usage.gwp.min / usa.usage.gwp.min).to.be.closeTo(0.04418 / 0.38355, 1e-12);
  });

  it('zero output tokens cost nothing; a negative count is refused', () => {
    const i = impactsFor('openai', 'gpt-4o', 0, 1);
    expect(i.energy.max).to.equal(0);
    expect(i.gwp.max).to.equal(0);
    expect(() => impactsFor('openai', 'gpt-4o', -1, 1)).to.throw(RangeError, /non-negative/);
  });
});
