import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import {
  type ContextManager,
  createNoopMeter,
  diag,
  type Meter,
  type MeterProvider,
  metrics,
  ROOT_CONTEXT,
} from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  defaultResource,
  detectResources,
  envDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { type IMetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import {
  appendedPathProblem,
  carryingFailedPushes,
  envSecretsOf,
  histogramAggregationNote,
  installMaskingDiag,
  LocalHistograms,
  otlpExporterTimeout,
  otlpLastPush,
  otlpMetricExporter,
  PrometheusText,
  periodicTimes,
  reportingPushFailures,
  SCOPE,
  stderrLogger,
  type Logger as WarningLogger,
  withCurrentGauges,
  withoutCredentials,
} from 'carbonscope';
import type { Env } from '../config.js';
import { envList } from '../env-list.js';
import {
  HttpError,
  maskedTarget,
  pathMayHoldCredentials,
  targetPathStart,
} from '../http/text/index.js';
import { sourceAsset } from '../paths.js';
import { diagToLog } from './diag-to-log.js';
import { traceExporterNames, traceSetup } from './traces.js';

export interface Telemetry {
  meter: Meter;
  /** carbonscope's histograms, exported by every reader (bindMetrics records into them). */
  histograms: LocalHistograms;
  /** The Prometheus exposition as UTF-8, collected now; served at /metrics on the app's port. */
  metricsText(): Promise<Buffer>;
  /** True when a periodic OTLP reader pushes metrics to a collector. */
  otlpMetrics: boolean;
  /** True when spans are recorded (trace ids in logs, span attributes for operations). */
  tracing: boolean;
  /** Flushes every reader (the final OTLP export) and stops the SDK. */
  shutdown(): Promise<void>;
  /**
   * Where the telemetry's own warnings (a push that failed) go from now on: the app's logger,
   * which exists only after the SDK has started; until then stderr, secrets masked.
   */
  warnTo(logger: WarningLogger): void;
}

export interface TelemetryOptions {
  env?: Env;
  otlpMetricsEnabled: boolean;
  /** With tracing on, a span for each Koa middleware as well as the router's (false). */
  koaMiddlewareSpans?: boolean;
  /** With tracing on, requests to these paths (exact, the query aside) get no span (none). */
  untracedPaths?: readonly string[];
  /**
   * What the SDK's own lines (OTEL_LOG_LEVEL) must not show: the config's secrets; by default
   * those the environment holds as written (envSecretsOf: the grid's and the OTLP exporters').
   */
  secrets?: readonly string[];
}

/** What the instrumentations are asked to trace. */
interface TraceScope {
  koaMiddlewareSpans: boolean;
  untracedPaths: readonly string[];
}

// `service.instance.id` is semconv "development"; its key is stable across versions.
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(sourceAsset('..', 'package.json'), 'utf8')) as {
    version?: string;
  };
  return pkg.version ?? '0.0.0';
}

/**
 * Collects every instrument and serializes it as Prometheus text, with the names the OTel
 * Collector gives the same metrics (unit words). Rejects when the collection fails, so
 * /metrics answers 500 instead of an empty 200.
 */
function exposition(reader: PrometheusExporter, serializer: PrometheusText): () => Promise<Buffer> {
  return async () => {
    const { resourceMetrics, errors } = await reader.collect();
    // A callback that threw loses only its own series; the rest are still worth serving.
    if (errors.length) diag.error('metrics collection errors', ...errors);
    return serializer.encode(resourceMetrics);
  };
}

/**
 * The collection under OTEL_SDK_DISABLED=true, where NodeSDK bound no reader: a scrape gets a
 * 404 that says why, not a 500 with a stack in the log each time.
 */
async function metricsOff(): Promise<Buffer> {
  throw new HttpError(
    404,
    'metrics are off: OTEL_SDK_DISABLED=true turns the OpenTelemetry SDK off, /metrics too',
  );
}

/** A log function that writes through whatever logger `current` gives at the call. */
function forwardTo(
  current: () => WarningLogger,
  level: keyof WarningLogger,
): WarningLogger[typeof level] {
  return ((first: Record<string, unknown> | string, message?: string) =>
    typeof first === 'string'
      ? current()[level](first)
      : current()[level](first, message)) as WarningLogger[typeof level];
}

/** The periodic OTLP reader, and `within(stop)` to run the provider's stop in at the end. */
interface OtlpReader {
  reader: IMetricReader;
  /**
   * Runs `stop` with the last push bounded as `register`'s is (lastPushWithin): 2 s, one try of
   * 0.5 s after a failed push, a refused connection not tried again; what it drops is one line.
   */
  within(stop: () => Promise<void>): Promise<void>;
}

async function otlpReader(
  env: Env,
  histograms: LocalHistograms,
  logger: WarningLogger,
): Promise<OtlpReader> {
  // The config refused a timeout the user set over the interval; 0 and the default are cut to it.
  const { exportIntervalMillis, exportTimeoutMillis } = periodicTimes(env);
  const what = 'OTEL_EXPORTER_OTLP_ENDPOINT';
  const timeout = otlpExporterTimeout(env, exportTimeoutMillis);
  const exporter = await otlpMetricExporter(env, what, undefined, timeout);
  // Its histograms are the library's, pushed with their own buckets whatever this asks.
  const aggregation = histogramAggregationNote(env);
  if (aggregation) logger.warn(aggregation);
  // v1/metrics appended after the base endpoint's query or fragment: pushes to the wrong path.
  const appended = appendedPathProblem(env, 'metrics');
  if (appended) logger.warn(appended);
  // The SDK's handler of a failed push is silent without OTEL_LOG_LEVEL: say it in the log.
  const reporting = reportingPushFailures(exporter, env, logger);
  // The exporter retried a refused connection a second apart until the shutdown's grace was
  // spent (8.2-9 s from SIGTERM with nothing listening): the last push has an exporter of its own.
  const last = await otlpLastPush(env, what, reporting, logger, timeout);
  const reader = new PeriodicExportingMetricReader({
    // A failed push's delta points go again with the next export (the last one included).
    exporter: carryingFailedPushes(last.exporter, reporting),
    // The histograms follow OTLP's temporality preference as the counters do (delta keeps
    // what this reader pushed last: a view of its own).
    metricProducers: [histograms.producer(last.exporter)],
    exportIntervalMillis,
    exportTimeoutMillis,
  });
  return { reader: withCurrentGauges(sdkMetrics, reader), within: last.within };
}

/**
 * `stop` (the SDK's), its metrics' last push bounded by `otlp`: past that push's deadline the
 * rest of the stop (the spans' last export) is still awaited, within the shutdown's grace.
 */
async function stoppingWithin(otlp: OtlpReader, stop: () => Promise<void>): Promise<void> {
  let stopping: Promise<void> | undefined;
  await otlp.within(() => {
    stopping = stop();
    return stopping;
  });
  await stopping;
}

/**
 * Spans are recorded only when they can go somewhere: a trace exporter (OTEL_TRACES_EXPORTER
 * naming one as NodeSDK reads it: not `none`, nor `none` first, where it builds none, an
 * endpoint or not) or, with OTEL_TRACES_EXPORTER unset, an OTLP endpoint. Otherwise there is
 * no context manager, no instrumentation and no loader hook: recording spans nobody receives
 * cost 140-500 µs of CPU per request (README, Performance), only to put trace ids in log lines.
 */
export function tracingEnabled(env: Env): boolean {
  if (env.OTEL_TRACES_EXPORTER?.trim()) return traceExporterNames(env).length > 0;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * The auto-instrumentations record into a meter that keeps nothing. Their HTTP and GenAI
 * metrics duplicate carbonscope's own under the same semconv names
 * (http.server.request.duration, gen_ai.client.token.usage), which would make two series of
 * each in /metrics, and the rest are not asked for. Dropping them with views, as before, still
 * had the SDK hash each record's attributes and look its series up on every traced request
 * (22 µs of each under a CPU profiler; 20-45 µs less CPU per request without it, alternating
 * rounds of the traced app). The spans are unaffected.
 */
const recordNothing: MeterProvider = { getMeter: () => createNoopMeter() };

/** A context manager that keeps nothing: every read sees the root context, at no cost. */
const rootOnlyContext: ContextManager = {
  active: () => ROOT_CONTEXT,
  with: (_context, fn, thisArg, ...args) => fn.call(thisArg, ...args),
  bind: (_context, target) => target,
  enable() {
    return this;
  },
  disable() {
    return this;
  },
};

/**
 * Loaded only when tracing is on: the package pulls in about 48 instrumentation packages, which
 * OTEL_TRACES_EXPORTER=none should not pay for at start-up.
 */
async function instrumentations({ koaMiddlewareSpans, untracedPaths }: TraceScope) {
  const { getNodeAutoInstrumentations } = await import('@opentelemetry/auto-instrumentations-node');
  const { KoaLayerType } = await import('@opentelemetry/instrumentation-koa');
  // http and koa give the request spans and the semconv HTTP metrics; undici covers the fetch
  // calls a request makes (Electricity Maps, the LLM): carbonscope's reads on its own timers run
  // with tracing suppressed. The rest are off: fs and dns alone would emit a
  // span for every file read and lookup, and the others instrument libraries we do not use.
  return getNodeAutoInstrumentations({
    '@opentelemetry/instrumentation-http': {
      ignoreIncomingRequestHook: ignoring(untracedPaths),
      startIncomingSpanHook: maskedUrl,
    },
    '@opentelemetry/instrumentation-undici': { startSpanHook: maskedFetchUrl },
    '@opentelemetry/instrumentation-fs': { enabled: false },
    '@opentelemetry/instrumentation-dns': { enabled: false },
    '@opentelemetry/instrumentation-net': { enabled: false },
    '@opentelemetry/instrumentation-runtime-node': { enabled: false },
    // The router's span names the route and sets it on the server span; the app's own
    // middleware (the envelope, the write checks) would add two spans named `middleware -
    // anonymous` to every request, ~100 µs of the ~475 µs a traced /healthz request took here
    // (alternating rounds of the traced app with and without them).
    '@opentelemetry/instrumentation-koa': {
      ignoreLayersType: koaMiddlewareSpans ? [] : [KoaLayerType.MIDDLEWARE],
    },
  });
}

/**
 * Whether a request's path is one of `paths`. The instrumentation then runs the request with
 * tracing suppressed: no server span, no router span under it, no span for what it calls. The
 * path of an absolute-form target too (`GET http://a:3000/metrics`), which the router serves as
 * /metrics: a scrape so sent was traced. A path alone without a query allocates nothing.
 */
export function ignoring(
  paths: readonly string[],
): ((request: IncomingMessage) => boolean) | undefined {
  if (paths.length === 0) return undefined;
  const ignored = new Set(paths);
  return ({ url = '' }) => {
    const start = targetPathStart(url);
    const query = url.indexOf('?', start);
    if (start === 0 && query === -1) return ignored.has(url);
    return ignored.has(url.slice(start, query === -1 ? url.length : query));
  };
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A request's url.query, and its url.path where that may hold a credential (a matrix parameter,
 * `;token=`, or a nested URL's userinfo, `/redirect/http://u:pw@idp/`: pathMayHoldCredentials),
 * as maskedTarget writes them: each secret-named parameter's value (`token`, `api_key`,
 * `%74oken`: the library's isSecretName) and each nested userinfo `[redacted]`. Only where it
 * masked something: the instrumentation's own list (redactedQueryParamsServer) takes exact names
 * only, and by default a few presigned-URL ones. The hook's attributes replace the
 * instrumentation's.
 */
export function maskedUrl({ url = '' }: IncomingMessage): Readonly<Record<string, string>> {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const pathMasked = pathMayHoldCredentials(path);
  // Most requests: nothing to mask, nothing allocated (the hook runs on every traced request).
  if (query === -1 && !pathMasked) return NO_ATTRIBUTES;
  const masked = maskedTarget(url);
  if (masked === url) return NO_ATTRIBUTES;
  const at = masked.indexOf('?');
  const attributes: Record<string, string> = {};
  if (pathMasked) attributes['url.path'] = at === -1 ? masked : masked.slice(0, at);
  if (query !== -1 && at !== -1) attributes['url.query'] = masked.slice(at + 1);
  return attributes;
}

/**
 * An outgoing fetch's url.full, url.path and url.query (undici's startSpanHook, whose attributes
 * replace the instrumentation's) with their credentials written `[redacted]`, where there are
 * any: a base URL's own query (ELECTRICITY_MAPS_BASE_URL's, an LLM proxy's `?token=`) goes with
 * each call a request makes. Undici refuses a URL with a user name or password, so the query and
 * the path's parameters are all there is.
 */
export function maskedFetchUrl({
  origin,
  path,
}: {
  origin: string;
  path: string;
}): Readonly<Record<string, string>> {
  if (!path.includes('?') && !pathMayHoldCredentials(path)) return NO_ATTRIBUTES;
  const url = `${origin}${path}`;
  const masked = withoutCredentials(url);
  if (masked === url) return NO_ATTRIBUTES;
  const target = masked.slice(origin.length);
  const query = target.indexOf('?');
  const maskedPath = query === -1 ? target : target.slice(0, query);
  const attributes: Record<string, string> = { 'url.full': masked };
  if (maskedPath !== path.split('?')[0]) attributes['url.path'] = maskedPath;
  const sentQuery = path.indexOf('?');
  if (query !== -1 && target.slice(query) !== path.slice(sentQuery)) {
    attributes['url.query'] = target.slice(query);
  }
  return attributes;
}

/** `true`, in any case, as the SDK reads its boolean variables. */
const envTrue = (value: string | undefined) => value?.trim().toLowerCase() === 'true';

/**
 * NodeSDK is for spans and logs: with neither (and the SDK not disabled, whose meaning is
 * NodeSDK's) the meter provider is all the app needs, and importing sdk-node, which loads every
 * trace and log exporter and propagator it can configure, cost ~0.4 s and ~7 MiB of heap at
 * start-up here for nothing.
 */
function needsNodeSdk(env: Env, tracesOff: boolean): boolean {
  return !tracesOff || logsExported(env) || envTrue(env.OTEL_SDK_DISABLED);
}

/**
 * Whether OTEL_LOGS_EXPORTER names a log exporter (`none` names none), its items read as NodeSDK
 * reads them (getStringListFromEnv: trimmed, an empty one dropped): `none,` is none.
 */
function logsExported(env: Env): boolean {
  const logs = envList(env.OTEL_LOGS_EXPORTER);
  return logs.length > 0 && !logs.includes('none');
}

/**
 * What NodeSDK does for metrics alone: OTEL_LOG_LEVEL's diagnostic logger (masked, see
 * installMaskingDiag), the resource with
 * OTEL_RESOURCE_ATTRIBUTES merged in, one global meter provider. No context manager or
 * propagator is registered: the API's defaults keep no context, as rootOnlyContext does.
 */
function startMetricsOnly(
  env: Env,
  resource: Resource,
  readers: IMetricReader[],
  secrets: readonly string[],
  logger: WarningLogger,
): () => Promise<void> {
  installMaskingDiag(env, secrets, { to: diagToLog(logger) });
  const provider = new sdkMetrics.MeterProvider({
    resource: resource.merge(detectResources({ detectors: [envDetector] })),
    readers,
    // The SDK's own metrics (experimental, opt-in), as NodeSDK passes them.
    sdkMetricsEnabled: envTrue(env.OTEL_NODE_EXPERIMENTAL_SDK_METRICS),
  });
  metrics.setGlobalMeterProvider(provider);
  return () => provider.shutdown();
}

/** NodeSDK with the readers, and with tracing on the tracer, the propagator and the spans. */
async function startNodeSdk(
  env: Env,
  resource: Resource,
  readers: IMetricReader[],
  tracesOff: boolean,
  scope: TraceScope,
  secrets: readonly string[],
  logger: WarningLogger,
): Promise<() => Promise<void>> {
  const loaded = tracesOff ? [] : await instrumentations(scope);
  // The OTLP span exporter with the timeout the service reads (0: indefinite, as for metrics).
  const traces = tracesOff ? { sdk: {} } : await traceSetup(env, logger);
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    resource,
    // Only OTEL_RESOURCE_ATTRIBUTES on top of the attributes above: the default host and
    // process detectors put the host name, the user and the whole command line on target_info,
    // which /metrics serves to whoever can reach it.
    resourceDetectors: [envDetector],
    metricReaders: readers,
    // Logs stay in pino's JSON on stdout; no OTLP log exporter unless asked for. NodeSDK reads
    // a blank OTEL_LOGS_EXPORTER as otlp: blank is unset here, as loadConfig reads it.
    logRecordProcessors: logsExported(env) ? undefined : [],
    // With tracing off the instrumentations would only add HTTP metrics that duplicate
    // http.server.request.duration, at about half the throughput of a cheap route
    // (test/bench: bare Koa 11k req/s, instrumented 5k, not instrumented 10k).
    instrumentations: loaded,
    ...traces.sdk,
    // Without tracing nothing reads the active context: no AsyncLocalStorage context manager
    // (on Node 20 it costs async hooks on every promise) and no propagator. No span processor
    // either: NodeSDK, started for a log exporter, reads an unset OTEL_TRACES_EXPORTER as otlp.
    ...(tracesOff
      ? { contextManager: rootOnlyContext, textMapPropagator: null, spanProcessors: [] }
      : {}),
  });
  // NodeSDK has installed the console's diag logger for OTEL_LOG_LEVEL, unmasked: an
  // exporter's line may quote a collector's refusal naming the token it was sent. Its lines go
  // into the log, except where the log is exported (pino's instrumentation sends each line as a
  // record): there a failed export's line would be exported and fail in turn, for ever. Stderr.
  const to = logsExported(env) ? undefined : diagToLog(logger);
  installMaskingDiag(env, secrets, { replace: true, to });
  sdk.start();
  // After start(): the SDK hands every instrumentation its meter provider there.
  for (const instrumentation of loaded) instrumentation.setMeterProvider(recordNothing);
  return () => {
    // The spans' flush at the shutdown goes through their last exporter (endingWith).
    traces.ending?.();
    return sdk.shutdown();
  };
}

/**
 * Starts the OTel SDK: one meter provider with a Prometheus reader (pulled at /metrics) and,
 * when an OTLP endpoint is set, a periodic OTLP reader; with tracing on (or a log exporter),
 * NodeSDK with a tracer provider and the auto-instrumentations. Must run before koa or http
 * are imported so they can be patched.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  // Every series comes from carbonscope's own meter (the instrumentations' record nothing, see
  // recordNothing), so the otel_scope_* labels would repeat one value on every line: leaving
  // them out halves the exposition and the scrape time.
  // carbonscope's histograms are kept by the library and handed to every reader at collection
  // (to a delta one as a view of its own, see otlpReader).
  const histograms = new LocalHistograms(sdkMetrics, SCOPE);
  // Each reader's observable gauges export only what their callbacks observe now: the grid
  // intensity's fallback source is gone from /metrics and the push once the API answers.
  const prometheus = withCurrentGauges(
    sdkMetrics,
    new PrometheusExporter({ preventServerStart: true, metricProducers: [histograms] }),
  );
  const serializer = new PrometheusText(sdkMetrics, { scopeLabels: false });
  const secrets = options.secrets ?? envSecretsOf(env);
  let warnings: WarningLogger = stderrLogger({ secrets });
  const readers: IMetricReader[] = [prometheus];
  let otlp: OtlpReader | undefined;
  // Read at each line: warnTo swaps the logger once the app's exists.
  const current: WarningLogger = {
    debug: forwardTo(() => warnings, 'debug'),
    info: forwardTo(() => warnings, 'info'),
    warn: forwardTo(() => warnings, 'warn'),
    error: forwardTo(() => warnings, 'error'),
  };
  if (options.otlpMetricsEnabled) {
    otlp = await otlpReader(env, histograms, current);
    readers.push(otlp.reader);
  }

  const tracesOff = !tracingEnabled(env);
  // On the SDK's default resource for its telemetry.sdk.* (NodeSDK leaves it out when given a
  // resource): a backend tells the language and SDK by them, as it does the library's.
  const resource = defaultResource().merge(
    resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || 'carbonscope',
      [ATTR_SERVICE_VERSION]: packageVersion(),
      [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
    }),
  );
  const stop = needsNodeSdk(env, tracesOff)
    ? await startNodeSdk(
        env,
        resource,
        readers,
        tracesOff,
        {
          koaMiddlewareSpans: options.koaMiddlewareSpans ?? false,
          untracedPaths: options.untracedPaths ?? [],
        },
        secrets,
        current,
      )
    : startMetricsOnly(env, resource, readers, secrets, current);

  return {
    meter: metrics.getMeter(SCOPE.name, SCOPE.version),
    histograms,
    metricsText: envTrue(env.OTEL_SDK_DISABLED) ? metricsOff : exposition(prometheus, serializer),
    otlpMetrics: options.otlpMetricsEnabled,
    tracing: !tracesOff,
    shutdown: () => (otlp ? stoppingWithin(otlp, stop) : stop()),
    warnTo: (logger) => {
      warnings = logger;
    },
  };
}
