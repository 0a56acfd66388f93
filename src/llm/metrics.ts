import type { Attributes, Counter, Meter } from '@opentelemetry/api';
import {
  AttributeCache,
  BoundedLabelSet,
  createInstrument,
  ESTIMATED,
  type Impact,
  type Impacts,
  JOULES_PER_KWH,
  METRICS,
  MOCK_LLM,
  toRange,
} from 'carbonscope';

const GRAMS_PER_KG = 1000;
const JOULES_PER_MJ = 1e6;

/**
 * The counts the upstream reported; undefined for one it did not (or not believably): the GenAI
 * conventions say an instrumentation that cannot count tokens MUST NOT report them, and a
 * ~4-characters guess summed with real counts would pass for one.
 */
export interface TokenCounts {
  prompt: number | undefined;
  completion: number | undefined;
}

export interface LlmMetrics {
  /** `fromMock`: the bundled mock answered, so the series say so (`carbonscope.mock`). */
  record(
    provider: string,
    model: string,
    tokens: TokenCounts,
    impacts: Impacts,
    fromMock: boolean,
  ): void;
}

/**
 * Distinct providers and models labelled over the process's life; the rest are `other`. Each
 * model adds 18 series (token usage by type, five criteria by bound and phase), 22 lines of
 * /metrics (the token histogram is a sum, a count and one bucket): 16 models keep the LLM part
 * of /metrics under 400 lines however many of the catalog's 351 models are asked for. The mock's
 * marker can double that at most, for an upstream that answers from both (one process has one
 * LLM_BASE_URL, so it is the mock's or a provider's).
 */
export const MAX_LABELLED_PROVIDERS = 8;
export const MAX_LABELLED_MODELS = 16;

/**
 * EcoLogits' provider names where the GenAI semantic conventions have a well-known value of
 * their own (`gen_ai.provider.name`); the others have none and are kept as they are.
 */
const SEMCONV_PROVIDERS: Readonly<Record<string, string>> = {
  mistralai: 'mistral_ai',
  google_genai: 'gcp.gen_ai',
};

/** `gen_ai.provider.name` for an EcoLogits provider name. */
export function semconvProvider(provider: string): string {
  return SEMCONV_PROVIDERS[provider] ?? provider;
}

/** Every attributes object one (provider, model) records with, made once. */
interface PairAttributes {
  input: Attributes;
  output: Attributes;
  usage: { min: Attributes; max: Attributes };
  embodied: { min: Attributes; max: Attributes };
}

/**
 * Makes every attributes object of one (provider, model), with `extra` on each: the mock's
 * marker, or nothing for a real provider (whose series keep the label set they always had).
 */
function pairAttributes(extra: Attributes) {
  return (provider: string, model: string): PairAttributes => {
    const request = {
      'gen_ai.provider.name': semconvProvider(provider),
      'gen_ai.request.model': model,
    };
    const phase = (name: string) => ({
      min: {
        ...request,
        'carbonscope.bound': 'min',
        'carbonscope.phase': name,
        [ESTIMATED]: true,
        ...extra,
      },
      max: {
        ...request,
        'carbonscope.bound': 'max',
        'carbonscope.phase': name,
        [ESTIMATED]: true,
        ...extra,
      },
    });
    const chat = { ...request, 'gen_ai.operation.name': 'chat', ...extra };
    return {
      input: { ...chat, 'gen_ai.token.type': 'input' },
      output: { ...chat, 'gen_ai.token.type': 'output' },
      usage: phase('usage'),
      embodied: phase('embodied'),
    };
  };
}

/**
 * Tokens go to the semantic conventions' `gen_ai.client.token.usage` histogram, one value per
 * request and token type. Impact ranges go to Prometheus as two monotonic series per phase,
 * `carbonscope.bound="min"` and `"max"`: each is a plain sum, so `rate()` works on it, and the
 * two rates draw a band in Grafana. An exact figure goes to both series. Every impact is an
 * EcoLogits estimate (`carbonscope.estimated=true`); the bundled mock's also carry
 * `carbonscope.mock=true`, so no demo figure is summed as a provider's unawares. Model names come
 * from the catalog, but a client picks among hundreds of them and a user's models file can add
 * any number: both labels are bounded sets, so the series are bounded whatever is asked for.
 */
export function createLlmMetrics(meter: Meter): LlmMetrics {
  const tokens = createInstrument(meter, METRICS.llmTokens);
  const energy = createInstrument(meter, METRICS.llmEnergy);
  const gwp = createInstrument(meter, METRICS.llmGwp);
  const adpe = createInstrument(meter, METRICS.llmAdpe);
  const pe = createInstrument(meter, METRICS.llmPe);
  // EcoLogits' own OTel output leaves water out; it is one of its five criteria all the same.
  const wcf = createInstrument(meter, METRICS.llmWcf);

  const sets = [
    new BoundedLabelSet({ capacity: MAX_LABELLED_PROVIDERS, maxLength: 64 }),
    new BoundedLabelSet({ capacity: MAX_LABELLED_MODELS, maxLength: 128 }),
  ] as const;
  // Both caches share the bounded sets: a name is admitted (or made `other`) once, mock or not.
  const pairs = new AttributeCache(sets, pairAttributes({}));
  const mockPairs = new AttributeCache(sets, pairAttributes({ [MOCK_LLM]: true }));

  const addRange = (
    counter: Counter,
    impact: Impact,
    factor: number,
    at: PairAttributes['usage'],
  ) => {
    const { min, max } = toRange(impact.value);
    counter.add(min * factor, at.min);
    counter.add(max * factor, at.max);
  };

  return {
    record(provider, model, counts, impacts, fromMock) {
      const { input, output, usage, embodied } = (fromMock ? mockPairs : pairs).of(provider, model);
      if (counts.prompt !== undefined) tokens.record(counts.prompt, input);
      if (counts.completion !== undefined) tokens.record(counts.completion, output);
      addRange(energy, impacts.usage.energy, JOULES_PER_KWH, usage);
      addRange(gwp, impacts.usage.gwp, GRAMS_PER_KG, usage);
      addRange(gwp, impacts.embodied.gwp, GRAMS_PER_KG, embodied);
      addRange(adpe, impacts.usage.adpe, GRAMS_PER_KG, usage);
      addRange(adpe, impacts.embodied.adpe, GRAMS_PER_KG, embodied);
      addRange(pe, impacts.usage.pe, JOULES_PER_MJ, usage);
      addRange(pe, impacts.embodied.pe, JOULES_PER_MJ, embodied);
      addRange(wcf, impacts.usage.wcf, 1, usage);
    },
  };
}
