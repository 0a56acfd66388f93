import type { EmbodiedSettings } from '../embodied.js';
import type { MeasureOptions, SelectSourcesOptions } from '../energy/index.js';
import type { RequestTrackingOptions } from '../http/index.js';
import { type KeyTable, OTHER_KEYS } from '../option-keys.js';
import type { EnergySettings, GridSettings, Settings } from '../settings.js';
import type { CarbonscopeOptions } from './carbonscope.js';

// The keys of the options objects the API documents, each table checked against its type's
// keys (`satisfies`): an option added to a type and not here fails the build, not a user.

const GRID = {
  zone: true,
  apiKey: true,
  baseUrl: true,
  cacheTtlMs: true,
  timeoutMs: true,
  maxStaleMs: true,
  otherZoneLookupsPerHour: true,
  share: true,
  fixedIntensity: true,
} as const satisfies Record<keyof GridSettings, true>;

// Its endpoints (kepler, scaphandre, exporter, pod) are taken whole: their `intervalMs` and
// `timeoutMs` would otherwise be what a top-level `intervalMs` is taken to mean, not the
// sample interval it far more likely means.
const ENERGY = {
  source: true,
  sourceOption: true,
  sampleIntervalMs: true,
  powercapRoot: true,
  attribution: true,
  operationAttribution: true,
  calibrationIntervalMs: true,
  operationMaxAgeMs: true,
  operationMaxNames: true,
  pue: true,
  cpuModel: true,
  cpuMinWattsPerVcpu: true,
  cpuMaxWattsPerVcpu: true,
  cpuTdpWatts: true,
  ramWattsPerGb: true,
  kepler: true,
  scaphandre: true,
  exporter: true,
  pod: true,
} as const satisfies Record<keyof EnergySettings, true>;

const EMBODIED = {
  profile: true,
  totalKg: true,
  lifetimeYears: true,
  hostVcpus: true,
  reservedVcpus: true,
  source: true,
} as const satisfies Record<keyof EmbodiedSettings, true>;

const HTTP = { knownMethods: true } as const satisfies Record<keyof Settings['http'], true>;

// The service hands its whole configuration, whose other keys (port, llm...) are its own.
const SETTINGS = {
  grid: GRID,
  energy: ENERGY,
  embodied: EMBODIED,
  http: HTTP,
  [OTHER_KEYS]: true,
} as const satisfies Record<keyof Settings, KeyTable> & KeyTable;

const SELECT = {
  platform: true,
  binaries: true,
  make: true,
  readCgroup: true,
  clock: true,
  holdProcess: true,
  probeTimeoutMs: true,
  gpuRetryFirstMs: true,
} as const satisfies Record<
  keyof Omit<SelectSourcesOptions, 'config' | 'logger' | 'raplEarly'>,
  true
>;

/**
 * CarbonscopeOptions but the span hooks the OTel layer sets; the instrumentation's config adds
 * its own keys to these (instrumentation.ts).
 */
export const STARTED_OPTIONS = {
  settings: SETTINGS,
  env: true,
  logger: true,
  sources: true,
  select: SELECT,
  trackRequests: true,
  grid: true,
  processCpu: true,
  gpuShares: true,
  hostCpu: true,
  clock: true,
  loopIdle: true,
  wallClock: true,
  bootClock: true,
  timer: true,
} as const satisfies Record<keyof Omit<CarbonscopeOptions, SpanHook>, true | KeyTable>;

type SpanHook = 'captureContext' | 'contextActive' | 'releaseContexts';

/** start()'s, Carbonscope.create()'s and EmissionsTracker's options. */
export const CARBONSCOPE_OPTIONS = {
  ...STARTED_OPTIONS,
  captureContext: true,
  contextActive: true,
  releaseContexts: true,
} as const satisfies Record<keyof CarbonscopeOptions, true | KeyTable>;

/** trackRequests()'s options. */
export const REQUEST_TRACKING_OPTIONS = {
  servers: true,
  knownMethods: true,
  captureContext: true,
  logger: true,
} as const satisfies Record<keyof RequestTrackingOptions, true>;

/** measure()'s options, checked at each call (warnUnknownCallKeys). */
export const MEASURE_OPTIONS = { units: true } as const satisfies Record<
  keyof MeasureOptions<unknown>,
  true
>;
