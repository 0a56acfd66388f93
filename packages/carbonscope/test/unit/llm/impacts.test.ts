import { expect } from 'chai';
import {
  computeImpacts,
  type DataCenter,
  type ElectricityMix,
  generationLatencySeconds,
  gpuCount,
  type ImpactInput,
  METHOD,
  type ModelArchitecture,
  mean,
  toRange,
} from '../../../src/llm/impacts.js';

// Figures of EcoLogits 0.11.3's data, written out so these tests read on their own; the
// conformance suite checks the bundled data and every model against the Python package.
const USA: ElectricityMix = { gwp: 0.3844, adpe: 9.855e-8, pe: 9.6884, wue: 3.1321 };
const OPENAI: DataCenter = { pue: 1.2, wueOnsite: 0.569 };
const ANTHROPIC: DataCenter = {
  pue: { min: 1.09, max: 1.14 },
  wueOnsite: { min: 0.13, max: 0.999 },
};

const base: ImpactInput = {
  architecture: { type: 'dense', parameters: 70 },
  outputTokens: 200,
  requestLatencySeconds: undefined,
  dataCenter: OPENAI,
  mix: USA,
};
const bounds = (impact: { value: number | { min: number; max: number } }) => toRange(impact.value);

describe('llm impacts (EcoLogits 0.11 method)', () => {
  it('a worked example by hand: dense 70 B, 200 tokens, no deployment figures, openai in the USA', () => {
    const i = computeImpacts(base);
    // f_L = 0.000678509 × 70 + 0.000311931 × 64 + 0.0194737 = 0.0869309 s/token → ΔT = 17.386 s
    const deltaT = 200 * (METHOD.latencyAlpha * 70 + METHOD.latencyBeta * 64 + METHOD.latencyGamma);
    expect(deltaT).to.be.closeTo(17.386, 0.001);
    // 70 B × 1.2 × 2 bytes = 168 GB → 3 GPUs → 4
    const gpus = 4;
    const gpuKwh =
      (200 * (1.1665273170451914e-6 * Math.exp(-0.7171789456370672) * 70 + 4.052928146734005e-5)) /
      1000;
    const serverKwh = ((deltaT / 3600) * 1.2 * (gpus / 8)) / 64;
    const energy = 1.2 * (serverKwh + gpus * gpuKwh);
    expect(i.energy.value).to.be.closeTo(energy, energy * 1e-12);
    expect(i.energy.unit).to.equal('kWh');
    expect(i.usage.gwp.value).to.be.closeTo(energy * 0.3844, 1e-15);
    const share = deltaT / (3 * 365 * 24 * 3600 * 64);
    expect(i.embodied.gwp.value).to.be.closeTo(share * ((gpus / 8) * 5700 + gpus * 273), 1e-15);
    expect(i.embodied.adpe.value).to.be.closeTo(
      share * ((gpus / 8) * 0.37 + gpus * 0.00895),
      1e-20,
    );
    expect(i.embodied.pe.value).to.be.closeTo(share * ((gpus / 8) * 70000 + gpus * 3721), 1e-12);
    expect(i.wcf.value).to.be.closeTo((energy / 1.2) * (0.569 + 1.2 * 3.1321), 1e-15);
    expect(i.wcf.unit).to.equal('L');
  });

  it('totals are usage + embodied; energy and water are usage only', () => {
    const i = computeImpacts({
      ...base,
      architecture: { type: 'moe', total: 440, active: { min: 44, max: 132 } },
    });
    for (const k of ['gwp', 'adpe', 'pe'] as const) {
      for (const b of ['min', 'max'] as const) {
        expect(bounds(i[k])[b]).to.equal(bounds(i.usage[k])[b] + bounds(i.embodied[k])[b]);
      }
    }
    expect(i.energy).to.deep.equal(i.usage.energy);
    expect(i.wcf).to.deep.equal(i.usage.wcf);
    expect(Object.keys(i.embodied)).to.deep.equal(['gwp', 'adpe', 'pe']);
  });

  it('shape: exact inputs give numbers; a parameter range makes every figure a range', () => {
    const exact = computeImpacts(base);
    for (const c of [exact.energy, exact.gwp, exact.wcf, exact.embodied.pe]) {
      expect(c.value).to.be.a('number').and.greaterThan(0);
    }
    expect(mean(exact.energy.value)).to.equal(exact.energy.value);
    const ranged = computeImpacts({
      ...base,
      architecture: { type: 'dense', parameters: { min: 20, max: 70 } },
    });
    for (const c of [
      ranged.energy,
      ranged.gwp,
      ranged.wcf,
      ranged.embodied.pe,
      ranged.usage.adpe,
    ]) {
      const { min, max } = c.value as { min: number; max: number };
      expect(max).to.be.greaterThan(min);
    }
  });

  it('shape: a PUE/WUE range makes a range of what depends on it, not of the embodied part', () => {
    const i = computeImpacts({ ...base, dataCenter: ANTHROPIC });
    const energy = bounds(i.energy);
    expect(energy.max / energy.min).to.be.closeTo(1.14 / 1.09, 1e-12);
    expect(i.usage.gwp.value).to.have.keys('min', 'max');
    expect(i.wcf.value).to.have.keys('min', 'max');
    expect(i.embodied.gwp.value).to.be.a('number');
    // The total GWP adds an exact embodied part to a usage range: a range.
    expect(i.gwp.value).to.have.keys('min', 'max');
    const onlyWue = computeImpacts({
      ...base,
      dataCenter: { pue: 1.2, wueOnsite: { min: 0.1, max: 0.5 } },
    });
    expect(onlyWue.energy.value).to.be.a('number');
    expect(onlyWue.wcf.value).to.have.keys('min', 'max');
  });

  it('deployment figures: latency = output tokens / tps + ttft, capped by the measured latency', () => {
    const deployment = { tps: 50, ttft: 0.4 };
    expect(generationLatencySeconds(70, 200, Number.POSITIVE_INFINITY, deployment)).to.equal(
      200 * (1 / 50) + 0.4,
    );
    expect(generationLatencySeconds(70, 200, 1.5, deployment)).to.equal(1.5);
    // Without a throughput the regression speed holds, and a lone ttft still adds.
    const regression = generationLatencySeconds(70, 200, Number.POSITIVE_INFINITY, undefined);
    expect(generationLatencySeconds(70, 200, Number.POSITIVE_INFINITY, { ttft: 2 })).to.equal(
      regression + 2,
    );
    const embodied = (latency: number | undefined) =>
      computeImpacts({ ...base, deployment, requestLatencySeconds: latency }).embodied.gwp
        .value as number;
    expect(embodied(2) / embodied(1)).to.be.closeTo(2, 1e-12);
    // Past the modelled 4.4 s the measured latency no longer matters; none counts as infinite.
    for (const latency of [4.4, 10, 1000]) expect(embodied(latency)).to.equal(embodied(undefined));
    expect(embodied(4)).to.be.lessThan(embodied(undefined));
  });

  it('mixture of experts: the total count sets the GPUs, the active count energy and latency', () => {
    const moe = computeImpacts({ ...base, architecture: { type: 'moe', total: 440, active: 44 } });
    const dense = computeImpacts({ ...base, architecture: { type: 'dense', parameters: 44 } });
    // Same ΔT, 16 GPUs against 2: embodied scales with the GPU count (server share and GPUs).
    expect((moe.embodied.gwp.value as number) / (dense.embodied.gwp.value as number)).to.be.closeTo(
      8,
      1e-12,
    );
    expect(moe.energy.value).to.be.greaterThan(dense.energy.value as number);
  });

  it('rounds the GPU count up to a power of two', () => {
    expect(gpuCount(8)).to.equal(1); // 19.2 GB
    expect(gpuCount(70)).to.equal(4); // 168 GB -> 3 -> 4
    expect(gpuCount(440)).to.equal(16); // 1056 GB -> 14 -> 16
    expect(gpuCount(2000)).to.equal(64); // 4800 GB -> 60 -> 64
  });

  it('zero output tokens cost nothing without deployment figures; bad counts are refused', () => {
    const i = computeImpacts({ ...base, outputTokens: 0 });
    expect(i.energy.value).to.equal(0);
    expect(i.gwp.value).to.equal(0);
    expect(() => computeImpacts({ ...base, outputTokens: -1 })).to.throw(
      RangeError,
      /^outputTokens: /,
    );
    expect(() => computeImpacts({ ...base, outputTokens: Number.NaN })).to.throw(RangeError);
    expect(() => computeImpacts({ ...base, requestLatencySeconds: -1 })).to.throw(RangeError);
  });

  it('a token count is a whole number up to 2^53 - 1, named as outputTokens when it is not', () => {
    // 1e306 tokens priced Infinity and NaN (null in JSON); past 2^53 counts are no longer exact.
    for (const outputTokens of [1.5, 2 ** 53, 1e306, Number.POSITIVE_INFINITY]) {
      expect(() => computeImpacts({ ...base, outputTokens }), String(outputTokens)).to.throw(
        RangeError,
        /^outputTokens: expected a whole number of tokens from 0 to 9007199254740991, got [\dI]/,
      );
    }
    // A JavaScript caller's '100' read as the number 100 in the message, which hid the mistake.
    const text = '100' as unknown as number;
    expect(() => computeImpacts({ ...base, outputTokens: text })).to.throw(
      RangeError,
      'outputTokens: expected a whole number of tokens from 0 to 9007199254740991, got "100" (a string)',
    );
    expect(computeImpacts({ ...base, outputTokens: 2 ** 53 - 1 }).gwp.value).to.satisfy(
      Number.isFinite,
    );
  });

  it('a latency that is not a number is refused, not priced as NaN', () => {
    for (const latency of ['abc', {}, '2', true]) {
      const requestLatencySeconds = latency as unknown as number;
      expect(() => computeImpacts({ ...base, requestLatencySeconds }), String(latency)).to.throw(
        RangeError,
        /^requestLatencySeconds: expected seconds from 0, or undefined when not measured, got /,
      );
    }
    // null, as JSON writes an unknown latency, is unknown as undefined is.
    const unknown = null as unknown as undefined;
    expect(computeImpacts({ ...base, requestLatencySeconds: unknown })).to.deep.equal(
      computeImpacts({ ...base, requestLatencySeconds: undefined }),
    );
  });

  it("a caller's own figures that are not finite numbers are refused by name, not priced", () => {
    const cases: Array<[string, Partial<ImpactInput>]> = [
      ['architecture.parameters', { architecture: { type: 'dense', parameters: Number.NaN } }],
      [
        'architecture.active.max',
        { architecture: { type: 'moe', total: 10, active: { min: 1, max: Number.NaN } } },
      ],
      ['dataCenter.pue', { dataCenter: { ...OPENAI, pue: '1.2' as unknown as number } }],
      ['mix.gwp', { mix: { ...USA, gwp: Number.POSITIVE_INFINITY } }],
    ];
    for (const [field, change] of cases) {
      expect(() => computeImpacts({ ...base, ...change }), field).to.throw(
        RangeError,
        new RegExp(`^${field.replace(/\./g, '\\.')}: expected a finite number from 0`),
      );
    }
    // A figure a JavaScript caller left out, or a throughput of 0 (1 / 0 tokens/s): they crashed
    // on undefined.min, or came out as "usage energy is not a finite number" naming no input.
    const missing: Array<[string, Partial<ImpactInput>]> = [
      ['architecture.active', { architecture: { type: 'moe', total: 10 } as ModelArchitecture }],
      ['architecture.parameters', { architecture: { type: 'dense' } as ModelArchitecture }],
      ['dataCenter.pue', { dataCenter: { wueOnsite: 0.5 } as DataCenter }],
      ['deployment.tps', { deployment: { tps: -1 } }],
      ['deployment.tps', { deployment: { tps: 0 }, outputTokens: 0 }],
      ['deployment.tps', { deployment: { tps: 0 }, requestLatencySeconds: 1, outputTokens: 0 }],
    ];
    for (const [field, change] of missing) {
      expect(() => computeImpacts({ ...base, ...change }), field).to.throw(
        RangeError,
        new RegExp(`^${field.replace(/\./g, '\\.')}: expected a`),
      );
    }
    // Ranges the data files refuse: they came out as result ranges with min over max.
    const inverted: Array<[string, Partial<ImpactInput>]> = [
      [
        'architecture.parameters',
        { architecture: { type: 'dense', parameters: { min: 70, max: 7 } } },
      ],
      ['dataCenter.pue', { dataCenter: { ...OPENAI, pue: { min: 1.5, max: 1.1 } } }],
      ['architecture.active', { architecture: { type: 'moe', total: 10, active: 50 } }],
    ];
    for (const [field, change] of inverted) {
      expect(() => computeImpacts({ ...base, ...change }), field).to.throw(
        RangeError,
        new RegExp(`^${field.replace(/\./g, '\\.')}: `),
      );
    }
    // Each finite, their product not: no figure of Infinity comes out.
    const huge = { architecture: { type: 'dense', parameters: 1e307 } } as const;
    expect(() => computeImpacts({ ...base, ...huge })).to.throw(RangeError, /not a finite number/);
  });
});
