import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  checkOtelLists,
  checkOtelSwitches,
  checkOtlpTlsFiles,
  type Env,
  type ExporterEndpoint,
  exportTimeoutOverInterval,
  fetchableUrlSetting,
  integerSetting as integer,
  loadSettings,
  MIN_EXPORT_INTERVAL_MS,
  maskableSecret,
  otlpSecretsOf,
  parseEnv,
  type Settings,
  SettingsError,
  sdkIntegerSetting,
  secretsOf as settingsSecrets,
  timeoutSetting,
  urlSetting as url,
  urlSecrets,
  withoutCredentials,
} from 'carbonscope';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { envList } from './env-list.js';

export type { Env };
/** A malformed setting; `variable` names the environment variable (the library's own class). */
export { SettingsError as ConfigError };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
/**
 * A comma-separated list whose every item is one of `allowed` (the OTel SDK's own lists), with
 * `none` alone: beside another name NodeSDK reads metrics and logs as none, traces as otlp.
 * Items as NodeSDK reads them, with @opentelemetry/core's getStringListFromEnv: each trimmed, an
 * empty one dropped (`tracecontext,baggage,` is two). A list of none but empty ones (`,`) is
 * refused: NodeSDK reads it as otlp for an exporter and as no propagator at all.
 */
const exporterList = (allowed: readonly string[]) => {
  const others = allowed.filter((e) => e !== 'none').join(', ');
  return z.string().refine((list) => {
    const items = new Set(envList(list));
    return (
      items.size > 0 &&
      [...items].every((item) => allowed.includes(item)) &&
      (items.size === 1 || !items.has('none'))
    );
  }, `expected none alone, or a comma-separated list of ${others}`);
};

/**
 * A number as the SDK reads its own (@opentelemetry/core's getNumberFromEnv, for the sampler's
 * ratio): `Number()` of the text, so `+0.1`, `.5` and `0x1` are numbers, and one it reads as NaN
 * is its default. What it reads is checked, not how it is written. Whole numbers (the span
 * limits, OTEL_BSP_*, the export interval and timeouts) are the library's sdkIntegerSetting.
 */
const sdkNumber = (message: string, accepts: (n: number) => boolean) =>
  z.string().transform(Number).refine(accepts, message);

/** The tracer provider's span limits: as given, Infinity no limit (a count of 1.5 kept 2). */
const spanLimit = (min: number) =>
  sdkIntegerSetting(min, 1_000_000_000, { infinity: true }).optional();

/** Read by NodeSDK's getNonNegativeNumberFromEnv: 0 or less, and NaN, are its default. */
const positiveSdkInteger = (min: number, max: number) =>
  sdkIntegerSetting(min, max, { positive: true }).optional();

/**
 * An OTLP exporter's timeout, register's own rule (timeoutSetting): the service's timeouts are
 * the library's otlpExporterTimeout's (telemetry/sdk.ts, traces.ts), 0 the spec's indefinite
 * there as in register, not NodeSDK's 10 s.
 */
const otlpTimeout = timeoutSetting().optional();

/** The ratio samplers' share, as the SDK reads it: one out of [0, 1] (or NaN) it reads as 1. */
const samplerRatio = sdkNumber('expected a decimal number, from 0 to 1', (n) => n >= 0 && n <= 1);

/** The spec's two values; the SDK warns of another only under OTEL_LOG_LEVEL, and sends plain. */
const compression = z.enum(['gzip', 'none'], { message: 'expected gzip or none' }).optional();

/**
 * The samplers the tracer provider reads from OTEL_TRACES_SAMPLER, exactly as written (case and
 * spaces count); another it reads as parentbased_always_on with a diag line only OTEL_LOG_LEVEL
 * shows. The ratio ones read OTEL_TRACES_SAMPLER_ARG, and one they cannot read as 1 (every trace).
 */
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The tracer provider's limits: one it cannot read it takes as its default (128, or none for a
 * length), a negative or fractional one as given (a count of -5 dropped every attribute), each
 * with a diag line only OTEL_LOG_LEVEL shows. A length of 0 or less it reads as none, and warns
 * at every attribute it is given: from 1. Infinity it reads as no limit, a length's default.
 */
const SPAN_COUNT_LIMITS = [
  'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT',
];
const SPAN_LENGTH_LIMITS = [
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
];
const SPAN_LIMITS = Object.fromEntries([
  ...SPAN_COUNT_LIMITS.map((name) => [name, spanLimit(0)]),
  ...SPAN_LENGTH_LIMITS.map((name) => [name, spanLimit(1)]),
]);

/** Probes and scrapes: asked every few seconds, the same every time, noise in a trace store. */
const DEFAULT_IGNORED_PATHS = '/healthz,/readyz,/metrics';

/** `a, b,,c` → [a, b, c]; `none` (an empty variable is unset, as everywhere) traces every path. */
const pathList = (list: string) => (list === 'none' ? [] : envList(list));

/** The app's own settings; carbonscope's (CARBON_*, ENERGY_*, PUE, GRID_*) come from the library. */
const schema = {
  PORT: integer(0, 65535).default(8001),
  HOST: z.string().min(1).default('0.0.0.0'),
  BODY_LIMIT_KB: integer(1, 10_240).default(64),
  LLM_BASE_URL: fetchableUrlSetting.optional(),
  // Sent in a header: one that cannot carry it failed every call as a connection error.
  LLM_API_KEY: z
    .string()
    .regex(
      /^[\x21-\x7e]+$/,
      'expected visible ASCII characters only (no space, line break or control)',
    )
    .optional(),
  LLM_PROVIDER: z.string().min(1).default('openai'),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LLM_ELECTRICITY_MIX_ZONE: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected an alpha-3 mix zone such as USA or FRA')
    .optional(),
  LLM_MODELS_FILE: z.string().min(1).optional(),
  LLM_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  MOCK_LLM_PORT: integer(0, 65535).default(8002),
  MOCK_LLM_LATENCY_MS: integer(0, 60_000).default(50),
  // Any case, as OTEL_LOG_LEVEL and CARBONSCOPE_LOG_LEVEL are read: pino knows lower case only.
  LOG_LEVEL: z.string().toLowerCase().pipe(z.enum(LOG_LEVELS)).default('info'),
  // The path a reverse proxy serves the app under and strips (`/carbonscope`), for the one
  // redirect that cannot be relative: `/` asked as `/carbonscope` (no slash) lost the prefix.
  PROXY_PREFIX: z
    .string()
    .regex(
      /^(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+){1,16}$/,
      'expected a path such as /carbonscope: starting with /, without a trailing slash, query or space',
    )
    .refine((p) => p.length <= 200, 'expected at most 200 characters')
    .optional(),
  TRACE_KOA_MIDDLEWARE: z.enum(['true', 'false']).default('false'),
  TRACE_IGNORED_PATHS: z
    .string()
    .default(DEFAULT_IGNORED_PATHS)
    .transform(pathList)
    .refine(
      (paths) => paths.length <= 64 && paths.every((p) => /^\/[^\s?#]{0,199}$/.test(p)),
      'expected none or up to 64 comma-separated paths, each starting with / (no query)',
    ),
  // The OTel variables the service reads (the SDK would ignore or misread a malformed one
  // silently). Metrics are pushed over OTLP/HTTP only: grpc is refused for them.
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
  // The Zipkin exporter threw a bare "Invalid URL" at start, and took any other scheme.
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum([...OTLP_PROTOCOLS, 'grpc']).optional(),
  // 0 is the OTel spec's "indefinite", as register takes it: the longest the bounds allow.
  OTEL_EXPORTER_OTLP_TIMEOUT: otlpTimeout,
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: otlpTimeout,
  // Read for the span exporter the service builds (telemetry/traces.ts), by the same rule.
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: otlpTimeout,
  OTEL_EXPORTER_OTLP_COMPRESSION: compression,
  OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: compression,
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: compression,
  // Read for the batch span processors the service builds (telemetry/traces.ts), which took a
  // malformed one as the default in silence, and a delay past setTimeout's limit as 1 ms.
  OTEL_BSP_SCHEDULE_DELAY: positiveSdkInteger(1, 86_400_000),
  OTEL_BSP_EXPORT_TIMEOUT: positiveSdkInteger(1, 600_000),
  OTEL_BSP_MAX_QUEUE_SIZE: positiveSdkInteger(1, 1_000_000),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: positiveSdkInteger(1, 1_000_000),
  OTEL_METRIC_EXPORT_INTERVAL: positiveSdkInteger(MIN_EXPORT_INTERVAL_MS, 86_400_000),
  // 0 is the spec's indefinite, as the periodic reader takes it (periodicTimes): register's rule.
  OTEL_METRIC_EXPORT_TIMEOUT: timeoutSetting({ positive: true }).optional(),
  // /metrics is always served on the app's port; only otlp adds a push.
  OTEL_METRICS_EXPORTER: exporterList(['otlp', 'prometheus', 'none']).optional(),
  OTEL_TRACES_EXPORTER: exporterList(['otlp', 'zipkin', 'console', 'none']).optional(),
  OTEL_LOGS_EXPORTER: exporterList(['otlp', 'console', 'none']).optional(),
  // NodeSDK skips a name it does not know, and with none left registers no propagator at all.
  OTEL_PROPAGATORS: exporterList([
    'tracecontext',
    'baggage',
    'b3',
    'b3multi',
    'jaeger',
    'none',
  ]).optional(),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).optional(),
  ...SPAN_LIMITS,
  // Only the ratio samplers read it, and the SDK knows no other that takes an argument.
  OTEL_TRACES_SAMPLER_ARG: samplerRatio.optional(),
} satisfies Record<string, z.ZodType>;

/**
 * Every variable the service reads of its own (carbonscope's are LIBRARY_VARIABLES); OTEL_* are
 * the SDK's, ORT_DISABLE_TELEMETRY ONNX Runtime's, which the service sets where it is unset.
 */
export const SERVICE_VARIABLES: readonly string[] = [
  ...Object.keys(schema),
  'ORT_DISABLE_TELEMETRY',
];

export interface Config extends Settings {
  port: number;
  host: string;
  bodyLimitBytes: number;
  /** PROXY_PREFIX: the path a reverse proxy serves the app under; '' where it is at the root. */
  proxyPrefix: string;
  logLevel: (typeof LOG_LEVELS)[number];
  llm: {
    baseUrl: string | undefined;
    apiKey: string | undefined;
    provider: string;
    model: string;
    electricityMixZone: string | undefined;
    modelsFile: string | undefined;
    timeoutMs: number;
    mockPort: number;
    mockLatencyMs: number;
  };
  otel: {
    /** True when an OTLP endpoint is configured, so a periodic OTLP reader is added. */
    otlpMetricsEnabled: boolean;
    /** With tracing on, a span for each of the app's Koa middleware too (TRACE_KOA_MIDDLEWARE). */
    koaMiddlewareSpans: boolean;
    /** With tracing on, requests to these paths (exact, without the query) get no span. */
    untracedPaths: readonly string[];
    /** OTEL_METRIC_EXPORT_INTERVAL as set, ms; undefined where left to the SDK's 60 s. */
    exportIntervalMs: number | undefined;
  };
}

/**
 * Whether OTEL_METRICS_EXPORTER lets an OTLP endpoint push metrics: unset, it does (the spec's
 * default is otlp); set, only when it names otlp, so an endpoint set for traces alone can keep
 * metrics to the scrape of /metrics.
 */
function pushesMetrics(exporters: string | undefined): boolean {
  return exporters === undefined || envList(exporters).includes('otlp');
}

/**
 * Reads `.env` (if present) without overriding what the environment already says. One that is
 * no regular file is refused by name before it is opened: a folder failed as a bare EISDIR, and
 * a FIFO would hang the start.
 */
export function readDotenv(path = '.env'): Env {
  if (!existsSync(path)) return {};
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    return parseDotenv(readFileSync(path));
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * The settings are read trimmed, the sampler by the SDK as written: ` traceidratio ` passed here
 * and sampled every trace there.
 */
function checkSamplerAsWritten(env: Env): void {
  const raw = env.OTEL_TRACES_SAMPLER;
  if (raw === undefined || raw.trim() === '' || raw === raw.trim()) return;
  throw new SettingsError(
    'OTEL_TRACES_SAMPLER',
    `write it without spaces around it, as the SDK reads it as written (got ${JSON.stringify(raw.slice(0, 60))})`,
  );
}

/** Validates every setting once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const library = loadSettings(env);
  const s = parseEnv(schema, env);
  // A timeout set over the interval, which register cuts to it with a warning, is refused: the
  // library's rule and words (0, indefinite, and the default are bounded by the interval).
  const timeoutOverInterval = exportTimeoutOverInterval(env, 'stops');
  if (timeoutOverInterval) throw timeoutOverInterval;
  checkSamplerAsWritten(env);
  checkOtelLists(env);
  checkOtelSwitches(env);
  // The exporters would leave out a file they cannot read, and every https push then fail.
  checkOtlpTlsFiles(env, ['METRICS', 'TRACES']);
  return {
    port: s.PORT,
    host: s.HOST,
    bodyLimitBytes: s.BODY_LIMIT_KB * 1024,
    proxyPrefix: s.PROXY_PREFIX ?? '',
    logLevel: s.LOG_LEVEL,
    ...library,
    llm: {
      baseUrl: s.LLM_BASE_URL,
      apiKey: s.LLM_API_KEY,
      provider: s.LLM_PROVIDER,
      model: s.LLM_MODEL,
      electricityMixZone: s.LLM_ELECTRICITY_MIX_ZONE,
      modelsFile: s.LLM_MODELS_FILE,
      timeoutMs: s.LLM_TIMEOUT_MS,
      mockPort: s.MOCK_LLM_PORT,
      mockLatencyMs: s.MOCK_LLM_LATENCY_MS,
    },
    otel: {
      otlpMetricsEnabled:
        Boolean(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) &&
        pushesMetrics(s.OTEL_METRICS_EXPORTER),
      koaMiddlewareSpans: s.TRACE_KOA_MIDDLEWARE === 'true',
      untracedPaths: s.TRACE_IGNORED_PATHS,
      exportIntervalMs: s.OTEL_METRIC_EXPORT_INTERVAL,
    },
  };
}

const REDACTED = '[redacted]';

/** A copy of the config that is safe to log: every secret replaced, its presence kept. */
export function redactConfig(config: Config): Config {
  return {
    ...config,
    grid: {
      ...config.grid,
      apiKey: config.grid.apiKey ? REDACTED : undefined,
      baseUrl: withoutCredentials(config.grid.baseUrl),
    },
    energy: {
      ...config.energy,
      kepler: { ...config.energy.kepler, ...maskedEndpoint(config.energy.kepler) },
      scaphandre: { ...config.energy.scaphandre, ...maskedEndpoint(config.energy.scaphandre) },
    },
    llm: {
      ...config.llm,
      apiKey: config.llm.apiKey ? REDACTED : undefined,
      baseUrl: config.llm.baseUrl && withoutCredentials(config.llm.baseUrl),
    },
  };
}

/** An energy exporter's URLs with their secret parameters masked (`?token=[redacted]`). */
function maskedEndpoint({ metricsUrl, prometheusUrl }: ExporterEndpoint): ExporterEndpoint {
  return {
    metricsUrl: metricsUrl && withoutCredentials(metricsUrl),
    prometheusUrl: prometheusUrl && withoutCredentials(prometheusUrl),
  };
}

/**
 * Every secret value of the config, for redaction of free text (errors, upstream bodies), and
 * those of the OTLP exporters' own variables in `env` (their endpoints' passwords, their headers'
 * tokens), which the exporters read themselves and the config does not hold.
 */
export function secretsOf(config: Config, env: Env = {}): string[] {
  return [
    ...settingsSecrets(config),
    // As the library's keys: one of a letter or two alone would mangle every line (maskableSecret).
    ...(maskableSecret(config.llm.apiKey) ? [config.llm.apiKey] : []),
    ...urlSecrets(config.llm.baseUrl),
    ...otlpSecretsOf(env),
  ].filter((s): s is string => Boolean(s));
}

/**
 * The longest OTLP push interval (OTEL_METRIC_EXPORT_INTERVAL, s) at which the dashboards' and
 * alerts' running-apps test (prometheus/rules.yml, tools/dashboards) sees a running app at every
 * scrape: a step of its energy counter is seen up to 5 s (the Collector's batch) and 15 s (the
 * scrape) after its push, and must come within 120 s of the one before.
 */
export const RUNNING_APPS_MAX_PUSH_SECONDS = 100;

/** A line to log at warn once the logger exists: its JSON fields and its message. */
export interface StartWarning {
  fields: Record<string, unknown>;
  message: string;
}

/**
 * A push interval the stack's dashboards and alerts cannot follow: they would count a running
 * app as gone between its pushes. A warning, not a refusal: the figures pushed are still right,
 * and a stack of one's own may not use these dashboards.
 */
export function pushIntervalWarning(config: Config): StartWarning | undefined {
  const intervalMs = config.otel.exportIntervalMs;
  const limitMs = RUNNING_APPS_MAX_PUSH_SECONDS * 1000;
  if (!config.otel.otlpMetricsEnabled || intervalMs === undefined || intervalMs <= limitMs) {
    return undefined;
  }
  return {
    fields: { setting: 'OTEL_METRIC_EXPORT_INTERVAL', intervalMs, limitMs },
    message: `OTEL_METRIC_EXPORT_INTERVAL is ${intervalMs} ms, over ${RUNNING_APPS_MAX_PUSH_SECONDS} s: the stack's dashboards and alerts count a running app by a push at least every ${RUNNING_APPS_MAX_PUSH_SECONDS} s, and lose it between longer ones`,
  };
}
