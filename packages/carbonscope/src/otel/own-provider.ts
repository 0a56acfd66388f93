import { randomUUID } from 'node:crypto';
import type { RequestListener, Server } from 'node:http';
import {
  createNoopMeter,
  type MeterProvider as MeterProviderApi,
  metrics,
} from '@opentelemetry/api';
import { z } from 'zod';
import { type Logger, redactionList, redactSecrets } from '../log.js';
import { isPm2ClusterWorker } from '../pm2.js';
import { checkedInteger, type Env, envSecretsOf, parseEnv, urlSetting } from '../settings.js';
import { messageOf } from '../thrown-text.js';
import type { PushedBefore } from './binding/index.js';
import {
  apiGlobals,
  carryingFailedPushes,
  installMaskingDiag,
  LocalHistograms,
  malformedOtelVariables,
  type ReportingExporter,
  reportingPushFailures,
  sdkResource,
  withCurrentGauges,
} from './binding/index.js';
import {
  answerPrimary,
  clusterExposition,
  type Exposition,
  isClusterWorker,
  parentServes,
  workersExpositions,
} from './cluster-exposition.js';
import { listeningEndpoint } from './endpoint-listen.js';
import { acceptsGzip, gzipExposition } from './exposition-encoding.js';
import { histogramAggregationNote } from './histogram-aggregation.js';
import { type LastPush, otlpLastPush } from './last-push.js';
import { oneLine } from './one-line.js';
import { PrometheusText } from './prometheus-text.js';
import { PushMarks } from './push-marks.js';
import { PushedDeltas } from './pushed-deltas.js';
import { SCOPE } from './scope.js';
import {
  appendedPathProblem,
  exporterPackages,
  gated,
  importAll,
  importSdk,
  MIN_EXPORT_INTERVAL_MS,
  OTLP_TIMEOUTS,
  otlpExporterTimeout,
  otlpMetricExporter,
  otlpTlsFileProblems,
  type PeriodicTimes,
  PROMETHEUS,
  type PushMetricExporter,
  periodicTimes,
  sdkIntegerSetting,
  timeoutOverIntervalOf,
  timeoutSetting,
} from './sdk/index.js';
import { targetPath } from './target-path.js';
import { KNOWN_EXPORTERS, unknownExporterLines } from './unknown-exporters.js';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type Reader = import('@opentelemetry/sdk-metrics').IMetricReader;
type MeterProvider = import('@opentelemetry/sdk-metrics').MeterProvider;

/**
 * `OTEL_SDK_DISABLED=true` (any case, as the SDK reads its booleans): the spec's switch for the
 * whole SDK, which carbonscope's own is too; the application's provider is its own business.
 */
export function sdkDisabled(env: Env): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

// `service.instance.id` is semconv "development"; its key is stable across versions.
const SERVICE_INSTANCE_ID = 'service.instance.id';

/**
 * This process's instance of the service. Every process of an application runs register (a
 * cluster's workers, a forked child inherit --import) and pushes its own figures under the same
 * service.name: without an id of their own their cumulative series were one, written by several
 * processes. Random, as the conventions recommend; OTEL_RESOURCE_ATTRIBUTES may set it.
 */
const INSTANCE_ID = randomUUID();

/** Whether an own provider started from `env` would serve a Prometheus endpoint. */
export function ownProviderServesPrometheus(env: Env): boolean {
  const exporters = metricsExporters(env);
  return !sdkDisabled(env) && !exporters.includes('none') && exporters.includes('prometheus');
}

/** The exporters that push (a periodic reader): Prometheus only answers scrapes. */
const PUSHING = new Set(['otlp', 'console']);

/** Whether an own provider started from `env` would push anything anywhere. */
export function ownProviderPushes(env: Env): boolean {
  if (sdkDisabled(env)) return false;
  const exporters = metricsExporters(env);
  return !exporters.includes('none') && exporters.some((e) => PUSHING.has(e));
}

/** What `OTEL_METRICS_EXPORTER` asks for; the spec's default is `otlp`. */
export function metricsExporters(env: Env): string[] {
  const raw = env.OTEL_METRICS_EXPORTER?.trim() || 'otlp';
  return [...new Set(raw.split(',').map((e) => e.trim().toLowerCase()))].filter(Boolean);
}

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
/**
 * grpc is the protocol a whole application is often set to (OTEL_EXPORTER_OTLP_PROTOCOL, its
 * endpoint the collector's 4317): its traces may stay there, and the line says how metrics alone
 * go to the collector's OTLP/HTTP receiver.
 */
const GRPC_REFUSED =
  "carbonscope pushes metrics over OTLP/HTTP only: set OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/protobuf and OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to the collector's OTLP/HTTP receiver, port 4318 by default, path /v1/metrics";
const otlpProtocol = z.enum(OTLP_PROTOCOLS, {
  error: (issue) =>
    typeof issue.input === 'string' && issue.input.trim().toLowerCase() === 'grpc'
      ? GRPC_REFUSED
      : 'expected http/protobuf or http/json',
});

/**
 * The variables each exporter reads, checked with the service's rules: the SDK would ignore a
 * malformed one (or Node refuse it) without naming it, and metrics would go elsewhere or nowhere.
 */
const PERIODIC = {
  OTEL_METRIC_EXPORT_INTERVAL: sdkIntegerSetting(MIN_EXPORT_INTERVAL_MS, 86_400_000, {
    positive: true,
  }).optional(),
  // Read by NodeSDK's getNonNegativeNumberFromEnv, which takes Infinity as given.
  OTEL_METRIC_EXPORT_TIMEOUT: timeoutSetting({ positive: true }).optional(),
};
const SCHEMAS: Readonly<Record<string, Record<string, z.ZodType>>> = {
  prometheus: {
    OTEL_EXPORTER_PROMETHEUS_HOST: z.string().optional(),
    // In any form the exporter (0.2xx) takes, as its Number() reads it: +9464, 0x24f8, 9464.0.
    // 0 is a port the OS picks, where the exporter takes its default: carbonscope serves it.
    OTEL_EXPORTER_PROMETHEUS_PORT: sdkIntegerSetting(0, 65_535, {
      reader: 'the Prometheus exporter',
    }).optional(),
  },
  otlp: {
    ...PERIODIC,
    ...OTLP_TIMEOUTS,
    OTEL_EXPORTER_OTLP_ENDPOINT: urlSetting.optional(),
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: urlSetting.optional(),
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: otlpProtocol.optional(),
  },
  console: PERIODIC,
};

/**
 * Throws SettingsError naming the first malformed variable the exporters read. The general
 * OTLP protocol is checked only where no metrics protocol overrides it (it may be grpc for
 * traces).
 */
function checkVariables(exporters: readonly string[], env: Env): void {
  for (const exporter of exporters) {
    const schema = SCHEMAS[exporter];
    if (schema) parseEnv(schema, env);
  }
  if (exporters.includes('otlp') && !env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim()) {
    parseEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional() }, env);
  }
}

/**
 * The Prometheus endpoint, on servers carbonscope owns so its scrapes can be left out of the
 * tracked requests (they are not the application's work). Only `/metrics` is served, with the
 * names the OTel Collector would give (PrometheusText); it never keeps the process alive. One
 * server per address of its host (listeningEndpoint): `localhost`, the default, is both loopbacks.
 */
function prometheusServers(exposition: () => Promise<Buffer>, env: Env, logger: Logger): Server[] {
  // The 3.x exporter no longer reads its variables itself, so they are read here, with the
  // spec's defaults (localhost:9464).
  const host = env.OTEL_EXPORTER_PROMETHEUS_HOST?.trim() || 'localhost';
  const port = checkedInteger(env, 'OTEL_EXPORTER_PROMETHEUS_PORT', 9464);
  return listeningEndpoint(scrapeHandler(exposition, env, logger), host, port, logger);
}

/** What answers a scrape at `/metrics`, and every other request. */
function scrapeHandler(
  exposition: () => Promise<Buffer>,
  env: Env,
  logger: Logger,
): RequestListener {
  const secrets = redactionList(envSecretsOf(env));
  return (req, res) => {
    if (targetPath(req.url) !== '/metrics') {
      res.statusCode = 404;
      res.end('not found: metrics are at /metrics\n');
      return;
    }
    // Only a read is a scrape: another method got the exposition, collected for nothing.
    // OPTIONS is told what is allowed, as the service's router tells it (200, no body).
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const options = req.method === 'OPTIONS';
      res.statusCode = options ? 200 : 405;
      res.setHeader('allow', 'GET, HEAD');
      res.end(options ? '' : 'method not allowed: /metrics answers GET and HEAD\n');
      return;
    }
    exposition().then(
      (body) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
        res.setHeader('vary', 'Accept-Encoding');
        // Prometheus asks for gzip on every scrape: a twentieth of the bytes for a fraction of
        // the scrape's CPU (gzipExposition); anyone else gets the bytes as written.
        const gzip = acceptsGzip(req.headers['accept-encoding']);
        const sent = gzip ? gzipExposition(body) : body;
        if (gzip) res.setHeader('content-encoding', 'gzip');
        res.setHeader('content-length', sent.length);
        res.end(sent);
      },
      (err: unknown) => {
        // The reason in the text, as below; masked: a callback's error may quote a setting. On
        // one line: a stderr line that wraps reads as two, the second nobody's.
        const reason = messageOf(err);
        const why = oneLine(redactSecrets(reason, secrets));
        logger.error({ err: why }, `Prometheus endpoint: metrics collection failed: ${why}`);
        res.statusCode = 500;
        res.end('metrics collection failed\n');
      },
    );
  };
}

/** The periodic reader's times (periodicTimes), with a word where the user's timeout was cut. */
function readerTimes(env: Env, logger: Logger): PeriodicTimes {
  const times = periodicTimes(env);
  const cut = timeoutOverIntervalOf(env, 'goesOn', times);
  if (cut) logger.warn(cut.message);
  return times;
}

/** What every reader of one own provider shares. */
interface ReaderContext {
  env: Env;
  sdk: SdkMetrics;
  logger: Logger;
  servers: Server[];
  /** What else stops with the readers (a cluster worker's answers to its primary). */
  closers: Array<() => void>;
  lastPushes: LastPush[];
  histograms: LocalHistograms;
  pushed: PushedDeltas;
  marks: PushMarks;
  open: () => boolean;
  /** The periodic readers' times, read (and a cut timeout told) once for all of them. */
  times: () => PeriodicTimes;
}

/**
 * Said by a cluster worker whose primary does not serve its figures. pm2's cluster mode: its
 * daemon, the primary, runs register where NODE_OPTIONS and the exporter are in its own
 * environment, which is that of the pm2 command that started it (a later one's reaches only the
 * applications).
 */
function unservedWorker(): string {
  const effect =
    "the workers share one Prometheus endpoint through it, and each scrape reads one worker's figures";
  if (isPm2ClusterWorker()) {
    return `pm2's daemon, this cluster worker's primary, does not serve its workers' figures: ${effect} (\`pm2 kill\`, then start pm2, or pm2-runtime, with NODE_OPTIONS='--import carbonscope/register' and OTEL_METRICS_EXPORTER=prometheus in its environment)`;
  }
  return `this cluster worker's primary does not run carbonscope/register: ${effect} (run the primary with --import carbonscope/register too)`;
}

async function readerFor(exporter: string, ctx: ReaderContext): Promise<Reader | undefined> {
  const { env, sdk, logger, servers, closers, lastPushes, histograms, pushed, marks, open } = ctx;
  // A pushing reader's histograms follow its exporter's temporality (OTLP's delta preference),
  // as its counters do; each delta reader keeps what it pushed last, so each gets its own.
  // What went to a collector is kept (pushed): the application's SDK, started late, goes on
  // from there. Not the console's: no collector holds that. Behind the gate: what it drops
  // after the hand-over went nowhere.
  // Each push's collection is marked (PushMarks): an exit with no turn left tells of a loss only
  // where something was counted after the last push that arrived.
  // `carried`: a collector's, whose failed delta pushes go again with the next export.
  const periodic = (
    inner: PushMetricExporter,
    times: PeriodicTimes,
    carried?: ReportingExporter,
  ) => {
    const marked = marks.pushing(carried ? pushed.recording(inner) : inner);
    const gate = gated(marked.exporter, open);
    const reader = new sdk.PeriodicExportingMetricReader({
      // Outside what counts the pushes: a push that carries a failed one's points counts them.
      exporter: carried ? carryingFailedPushes(gate, carried) : gate,
      metricProducers: [histograms.producer(inner)],
      exportIntervalMillis: times.exportIntervalMillis,
      exportTimeoutMillis: times.exportTimeoutMillis,
    });
    return marked.watch(reader);
  };
  switch (exporter) {
    case 'prometheus': {
      const [prometheus] = await importAll<[typeof import('@opentelemetry/exporter-prometheus')]>(
        [PROMETHEUS],
        'OTEL_METRICS_EXPORTER=prometheus',
      );
      // Prometheus takes cumulative figures only.
      const reader = new prometheus.PrometheusExporter({
        preventServerStart: true,
        metricProducers: [histograms],
      });
      // carbonscope's meter is the provider's only one, so the otel_scope_* labels would repeat
      // one value on every line; without them the labels are the service's and the Collector's.
      const serializer = new PrometheusText(sdk, { scopeLabels: false });
      const exposition = async (): Promise<Exposition & { body: Buffer }> => {
        const { resourceMetrics } = await reader.collect();
        const body = serializer.encode(resourceMetrics);
        const instance = resourceMetrics.resource.attributes[SERVICE_INSTANCE_ID];
        return {
          body,
          get text() {
            return body.toString('utf8');
          },
          instance: instance === undefined ? undefined : String(instance),
        };
      };
      // A cluster's primary serves its workers' figures with its own (cluster-exposition.ts).
      // So do a process's forked children, which inherit NODE_OPTIONS, theirs (parentServes).
      if (parentServes(env)) {
        closers.push(answerPrimary(env, exposition, logger));
        return reader;
      }
      if (isClusterWorker()) logger.warn(unservedWorker());
      servers.push(
        ...prometheusServers(
          clusterExposition(exposition, workersExpositions(logger)),
          env,
          logger,
        ),
      );
      return reader;
    }
    case 'otlp': {
      const times = ctx.times();
      const exporterTimeout = otlpExporterTimeout(env, times.exportTimeoutMillis);
      const what = 'OTEL_METRICS_EXPORTER=otlp';
      const make = (ms: number) => otlpMetricExporter(env, what, undefined, ms);
      const reporting = reportingPushFailures(await make(exporterTimeout), env, logger);
      const last = await otlpLastPush(env, what, reporting, logger, exporterTimeout);
      lastPushes.push(last);
      return periodic(last.exporter, times, reporting);
    }
    case 'console':
      return periodic(new sdk.ConsoleMetricExporter(), ctx.times());
    default:
      // Told by startOwnProvider, before any reader is made.
      return undefined;
  }
}

export interface OwnProvider {
  exporters: string[];
  /** carbonscope's alone; never the global one. */
  provider: MeterProvider;
  /** The HTTP servers it runs (the Prometheus endpoint), which are not the application's. */
  servers: Server[];
  /** carbonscope's histograms, exported by every reader of this provider. */
  histograms: LocalHistograms;
  /**
   * What its readers pushed to a collector, which a provider taking over must not push again:
   * its deltas, and its cumulative totals. That provider's streams begin when it takes over (their
   * start time), under its own service.instance.id or this one's: counted from there, or a
   * collector that keeps this one's series at their last value, or a consumer that tells streams
   * by their start time, counts those totals twice.
   */
  pushed: PushedBefore;
  /**
   * Whether its pushing readers pushed what was counted: markWith() gives the mark each
   * collection takes, unpushed() tells whether anything was counted after the last push that
   * arrived (or none arrived yet).
   */
  marks: Pick<PushMarks, 'markWith' | 'unpushed'>;
  /**
   * Pushes what is pending and stops the readers; the OTLP push within a short deadline of its
   * own (LastPush), what it could not deliver told in one line.
   */
  shutdown(): Promise<void>;
  /**
   * Stops the readers without pushing again: what it counted went to another provider (the
   * application's, started late). Its Prometheus endpoint closes.
   */
  handOver(): Promise<void>;
}

/**
 * `none` beside another exporter: NodeSDK reads the list as none, as register does, and says so
 * only under OTEL_LOG_LEVEL; the endpoint the application asked for would never come up unsaid.
 */
function warnNoneBesideOthers(exporters: readonly string[], logger: Logger): void {
  const others = exporters.filter((e) => e !== 'none');
  if (others.length === 0) return;
  logger.warn(
    `OTEL_METRICS_EXPORTER: none beside ${others.join(', ')}: no metrics are exported, as NodeSDK reads it; set none alone, or leave it out`,
  );
}

/** A provider with a reader for each of `exporters`; undefined where none makes one. */
async function providerOf(
  exporters: readonly string[],
  ctx: ReaderContext,
  resources: typeof import('@opentelemetry/resources'),
): Promise<MeterProvider | undefined> {
  const readers: Reader[] = [];
  for (const exporter of exporters) {
    const reader = await readerFor(exporter, ctx);
    // Its gauges export only what their callbacks observe now (a grid source that recovered).
    if (reader) readers.push(withCurrentGauges(ctx.sdk, reader));
  }
  if (readers.length === 0) return undefined;
  const resource = sdkResource(resources, { [SERVICE_INSTANCE_ID]: INSTANCE_ID });
  // Not registered as the global provider: an application whose SDK starts later would find
  // the global taken, and its own metrics would go to carbonscope's exporters instead of its.
  return new ctx.sdk.MeterProvider({ resource, readers });
}

/**
 * Starts a meter provider configured by the standard OTel variables (OTEL_METRICS_EXPORTER,
 * OTEL_EXPORTER_PROMETHEUS_*, OTEL_EXPORTER_OTLP_*, OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_LOG_LEVEL where no diag logger is
 * installed), for carbonscope's instruments only. For a process that has no SDK of its own;
 * `none`, or `OTEL_SDK_DISABLED=true`, starts nothing. A malformed variable it reads throws
 * SettingsError naming it.
 */
export async function startOwnProvider(env: Env, logger: Logger): Promise<OwnProvider | undefined> {
  const asked = metricsExporters(env);
  if (sdkDisabled(env)) return undefined;
  if (asked.includes('none')) {
    warnNoneBesideOthers(asked, logger);
    return undefined;
  }
  for (const line of unknownExporterLines(asked)) logger.warn(line);
  const exporters = asked.filter((e) => KNOWN_EXPORTERS.includes(e));
  if (exporters.length === 0) return undefined;
  checkVariables(exporters, env);
  const otlp = exporters.includes('otlp');
  for (const line of malformedOtelVariables(env, { sdk: true, headers: otlp })) {
    logger.warn(line);
  }
  if (otlp) for (const line of otlpTlsFileProblems(env, 'METRICS')) logger.warn(line);
  const appended = otlp ? appendedPathProblem(env) : undefined;
  if (appended) logger.warn(appended);
  const aggregation = otlp ? histogramAggregationNote(env) : undefined;
  if (aggregation) logger.warn(aggregation);
  const [sdk, resources] = await importSdk(
    `OTEL_METRICS_EXPORTER=${exporters.join(',')}`,
    exporterPackages(exporters, env),
  );
  // OTEL_LOG_LEVEL, as NodeSDK reads it, but masked: the exporters' lines may quote their URL,
  // their headers or a collector's refusal. Before they are made, which may log already.
  installMaskingDiag(env, envSecretsOf(env));
  const servers: Server[] = [];
  const closers: Array<() => void> = [];
  const lastPushes: LastPush[] = [];
  const histograms = new LocalHistograms(sdk, SCOPE);
  const pushed = new PushedDeltas(sdk);
  const marks = new PushMarks();
  let handedOver = false;
  // Lazily: a Prometheus reader alone reads no export interval, and a malformed one is no error.
  let times: PeriodicTimes | undefined;
  const ctx: ReaderContext = {
    env,
    sdk,
    logger,
    servers,
    closers,
    lastPushes,
    histograms,
    pushed,
    marks,
    open: () => !handedOver,
    times: () => {
      times ??= readerTimes(env, logger);
      return times;
    },
  };
  const closeOpened = () => {
    for (const server of servers) server.close();
    for (const close of closers) close();
  };
  let provider: MeterProvider | undefined;
  try {
    provider = await providerOf(exporters, ctx, resources);
  } catch (err) {
    // A reader after the Prometheus one (a malformed OTLP variable) or the resource threw:
    // register then says the application runs unmetered, and the endpoint answered 500s.
    closeOpened();
    throw err;
  }
  if (!provider) return undefined;
  const started = provider;
  const stopReaders = async () => {
    closeOpened();
    await started.shutdown();
  };
  // One OTLP reader at most (the exporters are distinct).
  const [lastPush] = lastPushes;
  return {
    exporters,
    provider: started,
    servers,
    histograms,
    pushed,
    marks,
    shutdown: () => (lastPush ? lastPush.within(stopReaders) : stopReaders()),
    handOver: () => {
      handedOver = true;
      return stopReaders();
    },
  };
}

/**
 * True when the application (or an earlier --import) registered a real meter provider: the API
 * gives what its global slot holds. Not by the no-op's class name alone: a bundle renames it
 * (esbuild's NoopMeterProvider2), and register then joined the no-op, exporting nothing.
 */
export function hasGlobalMeterProvider(): boolean {
  const provider = metrics.getMeterProvider();
  return apiGlobals()?.metrics === provider && !isNoopMeterProvider(provider);
}

/**
 * Whether the registered provider is shut down: the SDK's (1.x to 3.1) says so in `_shutdown`,
 * and from then on hands out meters that record nothing.
 */
export function globalProviderShutDown(): boolean {
  return (metrics.getMeterProvider() as { _shutdown?: unknown })._shutdown === true;
}

/**
 * The API's stand-in for a provider nobody registered: its meters record nothing. By class name,
 * which another copy of the API (1.9 or 1.10) gives it too, where instanceof would not. A
 * provider without a prototype (a Proxy that forwards getMeter alone) is none.
 */
function isNoopMeterProvider(provider: MeterProviderApi): boolean {
  return (
    (provider as { constructor?: { name?: unknown } }).constructor?.name === 'NoopMeterProvider'
  );
}

/** The API's no-op meter class, of this copy: found under any name (a minified bundle's). */
const NoopMeter = createNoopMeter().constructor;

/**
 * Whether carbonscope's meter of `provider` records nothing: the API's no-op provider, or a
 * provider that hands out the API's no-op meter (one that delegates to the no-op provider). An
 * SDK provider shut down hands it out too, but that is a shutdown, not a missing provider.
 */
export function metersForNothing(provider: MeterProviderApi): boolean {
  if (isNoopMeterProvider(provider)) return true;
  if ((provider as { _shutdown?: unknown })._shutdown === true) return false;
  const meter = provider.getMeter(SCOPE.name, SCOPE.version) as {
    constructor?: { name?: unknown };
  };
  return meter instanceof NoopMeter || meter.constructor?.name === 'NoopMeter';
}

/** Whether the application asked for no metrics: `OTEL_METRICS_EXPORTER=none`, or the SDK off. */
export function metricsOff(env: Env): boolean {
  return sdkDisabled(env) || metricsExporters(env).includes('none');
}
