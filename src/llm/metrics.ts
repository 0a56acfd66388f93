import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import {
  createInstrument,
  type Impact,
  type Impacts,
  JOULES_PER_KWH,
  METRICS,
  toRange,
} from 'carbonscope';

const GRAMS_PER_KG = 1000;
const JOULES_PER_MJ = 1e6;

export interface TokenCounts {
  prompt: number;
  completion: number;
}

export interface LlmMetrics {
  record(provider: string, model: string, tokens: TokenCounts, impacts: Impacts): void;
}

/**
 * Ranges go to Prometheus as two monotonic series per phase, `bound="min"` and `bound="max"`:
 * each is a plain sum, so `rate()` works on it, and the two rates draw a band in Grafana.
 * An exact figure goes to both series. Provider and model names come from the catalog, so the
 * label set stays bounded.
 */
export function createLlmMetrics(meter: Meter): LlmMetrics {
  const tokens = createInstrument(meter, METRICS.llmTokens);
  const energy = createInstrument(meter, METRICS.llmEnergy);
  const gwp = createInstrument(meter, METRICS.llmGwp);
  const adpe = createInstrument(meter, METRICS.llmAdpe);
  const pe = createInstrument(meter, METRICS.llmPe);
  // EcoLogits' own OTel output leaves water out; it is one of its five criteria all the same.
  const wcf = createInstrument(meter, METRICS.llmWcf);

  const addRange = (counter: Counter, impact: Impact, factor: number, base: Attributes) => {
    const { min, max } = toRange(impact.value);
    counter.add(min * factor, { ...base, bound: 'min' });
    counter.add(max * factor, { ...base, bound: 'max' });
  };

  return {
    record(provider, model, counts, impacts) {
      tokens.add(counts.prompt, { provider, model, type: 'prompt' });
      tokens.add(counts.completion, { provider, model, type: 'completion' });
      const usage = { provider, model, phase: 'usage' };
      const embodied = { provider, model, phase: 'embodied' };
      addRange(energy, impacts.usage.energy, JOULES_PER_KWH, usage);
      addRange(gwp, impacts.usage.gwp, GRAMS_PER_KG, usage);
      addRange(gwp, impacts.embodied.gwp, GRAMS_PER_KG, embodied);
      addRange(adpe, impacts.usage.adpe, 1, usage);
      addRange(adpe, impacts.embodied.adpe, 1, embodied);
      addRange(pe, impacts.usage.pe, JOULES_PER_MJ, usage);
      addRange(pe, impacts.embodied.pe, JOULES_PER_MJ, embodied);
      addRange(wcf, impacts.usage.wcf, 1, usage);
    },
  };
}
