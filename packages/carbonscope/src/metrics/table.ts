import { logBuckets, type MetricSpec } from './spec.js';

/**
 * HTTP server durations, seconds: the semantic convention's advisory boundaries, as they are
 * (not the SDK's default, whose first is 0, which no request fills, and which are milliseconds).
 */
export const LATENCY_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/**
 * Energy per request on a small VM is micro- to milli-joules (a 1 ms request at 0.1–5 W of
 * process power is 0.1–5 mJ); a chat or a long inference reaches joules. 1 µJ .. 300 J (18
 * buckets). Two per decade, not three: every bucket is a series per operation, and /metrics must
 * stay fast to scrape.
 */
export const OPERATION_ENERGY_BUCKETS_JOULES = logBuckets(-6, 2);

/**
 * Grams follow from joules × PUE × intensity / 3.6e6: at 50–800 gCO2e/kWh one joule is
 * 1.4e-5–2.2e-4 g, so 1 µJ .. 300 J maps into 1e-11 .. 0.3 g (22 buckets). Embodied grams fall
 * in the same range: a whole server's 7.9 mg/s (1,000 kg over 4 years) gives a 1 ms request at
 * most 8 µg, a laptop's 1.4 mg/s or a cloud vCPU's 0.13 mg/s less.
 */
export const OPERATION_EMISSIONS_BUCKETS_GRAMS = logBuckets(-11, -1);

/**
 * Tokens per request: no boundaries, so gen_ai.client.token.usage exports its sum and count (and
 * one `+Inf` bucket) and no distribution. The conventions advise 14 boundaries; each is one more
 * series per model and token type, and with them the token histogram alone was 2,278 of the
 * soak's 4,434 series (406 of its 771 KB). Add a View with the advised boundaries to get them.
 */
export const TOKEN_BUCKETS: readonly number[] = [];

/**
 * Whether a value comes from a model (`true`: the estimate power source, EcoLogits for LLM
 * impacts) or from a meter (`false`). Every energy, power, emissions and impact series carries
 * it, fixed for the life of the series (a source that falls back starts new series). Durations
 * and counts are counted, never estimated; the grid intensity is a published figure whose
 * origin `carbonscope.grid.source` names.
 */
export const ESTIMATED = 'carbonscope.estimated';

/**
 * The life-cycle phase of an emission: `usage` (the operational emissions of the energy used, SCI's
 * E × I) or `embodied` (the hardware's manufacturing emissions amortised over its life, SCI's M).
 * The same attribute and values the LLM impacts (EcoLogits) carry.
 */
export const PHASE = 'carbonscope.phase';
export const PHASES = { usage: 'usage', embodied: 'embodied' } as const;

/**
 * Marks the LLM figures of an answer the bundled mock LLM gave (`true`): no model ran, so they are
 * what the named model would have cost, a demonstration. Present only on the mock's series, never
 * `false`: a real provider's series keep the label set they always had, and a query leaves the
 * mock out with `carbonscope_mock!="true"`. One value, so it at most doubles the LLM series.
 */
export const MOCK_LLM = 'carbonscope.mock';

/**
 * The host a host-level series measures: every replica reports its whole host, so replicas on
 * one host repeat the same figures and a query keeps one of each value before summing. Not
 * semconv `host.id` (the machine's id): its fallback is the kernel's boot id, new at each
 * reboot. Absent where nothing names the host (macOS, Windows). See otel/binding/host-identity.ts.
 */
export const HOST_IDENTITY = 'carbonscope.host';
const HOST = HOST_IDENTITY;

/** The attributes of a power or energy figure: the component (semconv hw.*) and its source. */
const COMPONENT = ['hw.type', 'hw.id', 'carbonscope.power.source', ESTIMATED] as const;
const HOST_COMPONENT = [...COMPONENT, HOST] as const;
const EMISSIONS = ['carbonscope.scope', 'carbonscope.grid.zone', PHASE, ESTIMATED, HOST] as const;
const LLM_IMPACT = [
  'gen_ai.provider.name',
  'gen_ai.request.model',
  'carbonscope.bound',
  PHASE,
  ESTIMATED,
  MOCK_LLM,
] as const;

/** Every metric the library records. */
export const METRICS = {
  httpDuration: {
    name: 'http.server.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of HTTP server requests, by route template, method and status',
    // rpc.status_code: a gRPC call's outcome (its HTTP status is 200 whatever it is).
    attributes: [
      'http.route',
      'http.request.method',
      'http.response.status_code',
      'url.scheme',
      'rpc.status_code',
      'error.type',
    ],
    convention: 'semconv',
    buckets: LATENCY_BUCKETS_SECONDS,
  },
  hostEnergy: {
    name: 'hw.host.energy',
    kind: 'observableCounter',
    unit: 'J',
    description: 'Energy used by the host: every component the meter reads, by power source',
    attributes: ['hw.id', 'carbonscope.power.source', ESTIMATED, HOST],
    convention: 'semconv',
  },
  hostPower: {
    name: 'hw.host.power',
    kind: 'observableGauge',
    unit: 'W',
    description: 'Average power of the host over the latest sample interval, by power source',
    attributes: ['hw.id', 'carbonscope.power.source', ESTIMATED, HOST],
    convention: 'semconv',
  },
  energy: {
    name: 'hw.energy',
    kind: 'observableCounter',
    unit: 'J',
    description: 'Energy used by each host component (CPU package, memory, GPU), by power source',
    attributes: HOST_COMPONENT,
    convention: 'semconv',
  },
  power: {
    name: 'hw.power',
    kind: 'observableGauge',
    unit: 'W',
    description: 'Average power of each host component over the latest sample interval',
    attributes: HOST_COMPONENT,
    convention: 'semconv',
  },
  energyPartial: {
    name: 'carbonscope.energy.partial',
    // Counted by the sampler per host component series and read at collection: 0 from the
    // start, so a rate() sees the first one. The same labels as hw.energy: as bounded.
    kind: 'observableCounter',
    unit: '{interval}',
    description:
      "Sample intervals in which part of a host component's energy could not be read (a RAPL zone, a GPU's power): the process's share is short of it, hw.energy too unless a RAPL zone's return recovers its gap from its counter",
    attributes: HOST_COMPONENT,
    convention: 'carbonscope',
  },
  processEnergy: {
    name: 'carbonscope.process.energy',
    kind: 'observableCounter',
    unit: 'J',
    description: "The measured process's share of the host's energy, by component and source",
    attributes: COMPONENT,
    convention: 'carbonscope',
  },
  processPower: {
    name: 'carbonscope.process.power',
    kind: 'observableGauge',
    unit: 'W',
    description: "The measured process's average power over the latest sample interval",
    attributes: COMPONENT,
    convention: 'carbonscope',
  },
  emissions: {
    name: 'carbonscope.emissions',
    kind: 'observableCounter',
    unit: 'g',
    description:
      'CO2-equivalent emissions: of the energy used (usage: energy x PUE x grid intensity) and of the hardware (embodied, amortised)',
    attributes: EMISSIONS,
    convention: 'carbonscope',
  },
  emissionRate: {
    name: 'carbonscope.emission_rate',
    kind: 'observableGauge',
    unit: 'g/s',
    description: 'CO2-equivalent emissions per second over the latest sample interval, by phase',
    attributes: EMISSIONS,
    convention: 'carbonscope',
  },
  gridIntensity: {
    name: 'carbonscope.grid.carbon_intensity',
    kind: 'observableGauge',
    // gCO2e/kWh, as every grid data source gives it. The dimensioned UCUM `g/(kW.h)` would make
    // the Prometheus word `_grams_per_kW_h`, which promtool's naming lint refuses.
    unit: '{gCO2e/kWh}',
    description:
      'Carbon intensity of the electricity grid, gCO2e/kWh, by zone and the source that gave it',
    attributes: ['carbonscope.grid.zone', 'carbonscope.grid.source'],
    convention: 'carbonscope',
  },
  operationEnergy: {
    name: 'carbonscope.operation.energy',
    kind: 'histogram',
    unit: 'J',
    description: "Each operation's share of the process's energy while it ran",
    attributes: ['carbonscope.operation', ESTIMATED],
    convention: 'carbonscope',
    buckets: OPERATION_ENERGY_BUCKETS_JOULES,
  },
  operationEmissions: {
    name: 'carbonscope.operation.emissions',
    kind: 'histogram',
    unit: 'g',
    description:
      "Each operation's share of the process's CO2-equivalent emissions while it ran, usage and embodied",
    attributes: ['carbonscope.operation', PHASE, ESTIMATED],
    convention: 'carbonscope',
    buckets: OPERATION_EMISSIONS_BUCKETS_GRAMS,
  },
  operationDropped: {
    name: 'carbonscope.operation.dropped',
    // Counted in place as operations are dropped and read at collection: a total since the
    // start, which a binding made later (the application's provider) observes too.
    kind: 'observableCounter',
    unit: '{operation}',
    description:
      "Operations dropped from sharing the process's energy while they ran (begun and never ended, or the oldest of too many), by name, kind and reason",
    // `operation_kind`, not `operation.kind`: an attribute name is never another's namespace.
    // `drop_reason`: age (ran ENERGY_OPERATION_MAX_AGE_MS, a leak) or running (the oldest beyond
    // MAX_RUNNING, a burst); two values, so the series stay bounded.
    attributes: ['carbonscope.operation', 'carbonscope.operation_kind', 'carbonscope.drop_reason'],
    convention: 'carbonscope',
  },
  llmTokens: {
    name: 'gen_ai.client.token.usage',
    kind: 'histogram',
    unit: '{token}',
    description: 'Tokens sent to (input) and generated by (output) LLM APIs, per request',
    attributes: [
      'gen_ai.operation.name',
      'gen_ai.provider.name',
      'gen_ai.request.model',
      'gen_ai.token.type',
      MOCK_LLM,
    ],
    convention: 'semconv',
    buckets: TOKEN_BUCKETS,
  },
  llmEnergy: {
    name: 'carbonscope.llm.energy',
    kind: 'counter',
    unit: 'J',
    description: 'Estimated energy of LLM requests in the provider data centre (EcoLogits method)',
    attributes: LLM_IMPACT,
    convention: 'carbonscope',
  },
  llmGwp: {
    name: 'carbonscope.llm.gwp',
    kind: 'counter',
    unit: 'g',
    description: 'Estimated global warming potential of LLM requests, gCO2e (EcoLogits method)',
    attributes: LLM_IMPACT,
    convention: 'carbonscope',
  },
  llmAdpe: {
    name: 'carbonscope.llm.adpe',
    kind: 'counter',
    unit: 'g',
    description: 'Estimated abiotic resource depletion of LLM requests, gSbeq (EcoLogits method)',
    attributes: LLM_IMPACT,
    convention: 'carbonscope',
  },
  llmPe: {
    name: 'carbonscope.llm.pe',
    kind: 'counter',
    unit: 'J',
    description: 'Estimated primary energy of LLM requests (EcoLogits method)',
    attributes: LLM_IMPACT,
    convention: 'carbonscope',
  },
  llmWcf: {
    name: 'carbonscope.llm.wcf',
    kind: 'counter',
    unit: 'L',
    description:
      'Estimated water consumption of LLM requests, on site and off site (EcoLogits method)',
    attributes: LLM_IMPACT,
    convention: 'carbonscope',
  },
} as const satisfies Record<string, MetricSpec>;
