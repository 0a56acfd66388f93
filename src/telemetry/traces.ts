import { diag } from '@opentelemetry/api';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { BufferConfig, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  type AgentFactory,
  appendedPathProblem,
  LAST_PUSH_DEADLINE_MS,
  type Logger,
  lastPushAgents,
  otlpExporterTimeout,
  settlesWithin,
  withoutCredentials,
} from 'carbonscope';
import type { Env } from '../config.js';
import { envList } from '../env-list.js';

/** The batch span processor's wait on one export when OTEL_BSP_EXPORT_TIMEOUT is unset. */
const BSP_EXPORT_TIMEOUT_MS = 30_000;

/**
 * What NodeSDK is given for spans: nothing (it reads the environment), or what replaces that;
 * with the OTLP exporter, `ending` to call before the SDK's shutdown (see endingWith).
 */
export interface TraceSetup {
  sdk: Partial<Pick<NodeSDKConfiguration, 'traceExporter' | 'spanProcessors'>>;
  ending?: () => void;
}

/** The environment's string, trimmed; empty is unset, as the OTel SDK reads its variables. */
function envString(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/**
 * OTEL_TRACES_EXPORTER as NodeSDK reads it: unset or empty is otlp, `none` first is none, `none`
 * among others is otlp alone, `null` is passed over, and each name counts once.
 */
export function traceExporterNames(env: Env): string[] {
  const listed = envList(envString(env, 'OTEL_TRACES_EXPORTER')).filter((name) => name !== 'null');
  const names = [...new Set(listed)];
  if (names.length === 0) return ['otlp'];
  if (names[0] === 'none') return [];
  return names.includes('none') ? ['otlp'] : names;
}

/**
 * OTEL_BSP_* as NodeSDK reads them for the batch processors it builds, each given so the
 * processor reads none itself: a value that is no number above 0 is the default (NodeSDK warns
 * of it). The processor's own fallback takes 0 and negatives as they are: a queue of 0 drops
 * every span, a delay of -1 spins. The service's loadConfig refuses such a value before this
 * runs (config.ts); this reading is NodeSDK's, for telemetry started without it.
 */
function batchConfig(env: Env): Required<BufferConfig> {
  const read = (name: string, fallback: number) => {
    const value = Number(envString(env, name));
    return value > 0 ? value : fallback;
  };
  return {
    maxQueueSize: read('OTEL_BSP_MAX_QUEUE_SIZE', 2048),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT', BSP_EXPORT_TIMEOUT_MS),
    maxExportBatchSize: read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
  };
}

/**
 * How long the batch processor waits on an export (its OTEL_BSP_EXPORT_TIMEOUT, 30 s unset):
 * the span exporter's bound, as the periodic reader's timeout is the metric exporter's; at
 * least 1 ms, which the exporter's timeout takes.
 */
function batchExportTimeout(env: Env): number {
  return Math.max(1, batchConfig(env).exportTimeoutMillis);
}

/**
 * The OTLP span exporter for OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, with its timeout given and,
 * over HTTP, `agents` where given: the rest (endpoint, headers, compression) it reads from the
 * environment as NodeSDK's own would. gRPC has no HTTP agent: `agents` is not for it.
 */
async function otlpSpanExporter(
  env: Env,
  timeoutMillis: number,
  agents?: AgentFactory,
): Promise<SpanExporter> {
  const protocol = otlpTraceProtocol(env);
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ timeoutMillis });
  }
  const options = { timeoutMillis, ...(agents && { httpAgentOptions: agents }) };
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(options);
}

function otlpTraceProtocol(env: Env): string | undefined {
  return (
    envString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    envString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL')
  );
}

/** ExportResultCode.SUCCESS of @opentelemetry/core (the SDK's dependency, not the service's). */
const EXPORT_SUCCESS = 0;

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

/** A span exporter whose exports go to a second one, for the last export, once told `ending`. */
export interface EndingSpanExporter extends SpanExporter {
  /** The exporter of every export until `ending()`; with `last`, named for the tests to read. */
  readonly periodic: SpanExporter;
  readonly last: SpanExporter;
  ending(): void;
}

/**
 * `periodic` until `ending()`, `last` after: the batch processor's flush at the SDK's shutdown
 * exports through `last`. A batch of `periodic`'s under way at the stop is waited for until
 * `deadlineMs` from `ending()` at most: its exporter's shutdown awaited it up to its own timeout
 * (10 s, retrying a refusal), 6 s from SIGTERM with the collector down and the service in use.
 * What does not get through after `ending()` is one warning a batch, with how many spans it
 * dropped, and a success to the processor: its failure rejected NodeSDK's shutdown at once, and
 * the service then exited before the metrics' last push had said what it dropped.
 */
export function endingWith(
  periodic: SpanExporter,
  last: SpanExporter,
  target: string,
  logger: Logger,
  deadlineMs: number,
): EndingSpanExporter {
  let endedAt: number | undefined;
  const shown = withoutCredentials(target);
  /** The span counts of `periodic`'s exports under way, each taken out once told or ended. */
  const underWay = new Set<{ spans: number }>();
  const tell = (why: string, spans: number) => {
    logger.warn(
      `could not export the last spans to ${shown} within ${deadlineMs / 1000} s: ${why}; dropped ${spans} spans`,
    );
  };
  const failed = (result: ExportResult) =>
    result.code === EXPORT_SUCCESS ? undefined : result.error?.message || 'export failed';
  const exportPeriodic: SpanExporter['export'] = (spans, done) => {
    const entry = { spans: spans.length };
    underWay.add(entry);
    periodic.export(spans, (result) => {
      const why = failed(result);
      // Past ending() a failure is the stop's loss: told here (or by the shutdown that stopped
      // waiting for it, whose entry is gone), not again by the SDK's error handler.
      const toldAtShutdown = !underWay.delete(entry);
      if (why === undefined || (endedAt === undefined && !toldAtShutdown)) return done(result);
      if (!toldAtShutdown) tell(why, entry.spans);
      done({ code: EXPORT_SUCCESS });
    });
  };
  return {
    periodic,
    last,
    export: (spans, done) => {
      if (endedAt === undefined) return exportPeriodic(spans, done);
      last.export(spans, (result) => {
        const why = failed(result);
        if (why === undefined) return done(result);
        tell(why, spans.length);
        done({ code: EXPORT_SUCCESS });
      });
    },
    forceFlush: async () => {
      await Promise.all([periodic.forceFlush?.(), last.forceFlush?.()]);
    },
    shutdown: async () => {
      const stopping = Promise.all([periodic.shutdown(), last.shutdown()]);
      const leftMs = deadlineMs - (performance.now() - (endedAt ?? performance.now()));
      if (await settlesWithin(stopping, leftMs)) return stopping.then(() => undefined);
      const spans = [...underWay].reduce((sum, entry) => sum + entry.spans, 0);
      underWay.clear();
      if (spans > 0) tell('an export under way at the stop did not end', spans);
    },
    ending: () => {
      endedAt ??= performance.now();
    },
  };
}

/** Where the OTLP span exporter sends, as it reads the environment (for the warning). */
function otlpTracesEndpoint(env: Env): string {
  const specific = envString(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific) return specific;
  const base = envString(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!base)
    return otlpTraceProtocol(env) === 'grpc'
      ? 'http://localhost:4317'
      : 'http://localhost:4318/v1/traces';
  if (otlpTraceProtocol(env) === 'grpc') return base;
  return `${base.endsWith('/') ? base : `${base}/`}v1/traces`;
}

/**
 * The OTLP span exporter, and for the spans' export at the stop one bounded as the metrics' last
 * push is (LAST_PUSH_DEADLINE_MS, 2 s, never over the exporter's own timeout), whose refused
 * connection (nothing listens: ECONNREFUSED, or no such host, no route) fails at once. The
 * exporter retried a refusal a second apart until its 10 s timeout, which held the service's stop
 * 8-9 s from SIGTERM with its collector down, the metrics' push refused in milliseconds; a
 * collector that listens but never answers held it to the grace's cut, whose line blamed the
 * metrics. Both are made now: an exporter reads its endpoint and headers from the environment as
 * it is when made.
 */
async function otlpSpanExporters(env: Env, logger: Logger): Promise<EndingSpanExporter> {
  const timeoutMillis = otlpExporterTimeout(env, batchExportTimeout(env), 'TRACES');
  const lastMillis = Math.min(LAST_PUSH_DEADLINE_MS, timeoutMillis);
  const [periodic, last] = await Promise.all([
    otlpSpanExporter(env, timeoutMillis),
    otlpSpanExporter(env, lastMillis, lastPushAgents(env, lastMillis, 'TRACES')),
  ]);
  return endingWith(periodic, last, otlpTracesEndpoint(env), logger, lastMillis);
}

/**
 * The processor NodeSDK would give each exporter it names, the OTLP one built here, a batch one
 * with OTEL_BSP_* read as NodeSDK reads them (batchConfig); none for a name it does not know,
 * which it passes over with a warning too.
 */
async function spanProcessor(name: string, otlp: SpanExporter, env: Env): Promise<SpanProcessor[]> {
  const { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } = await import(
    '@opentelemetry/sdk-trace-base'
  );
  switch (name) {
    case 'otlp':
      return [new BatchSpanProcessor(otlp, batchConfig(env))];
    case 'console':
      return [new SimpleSpanProcessor(new ConsoleSpanExporter())];
    case 'zipkin': {
      const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
      return [new BatchSpanProcessor(new ZipkinExporter(), batchConfig(env))];
    }
    default:
      diag.warn(`Unrecognized OTEL_TRACES_EXPORTER value: ${name}.`);
      return [];
  }
}

/**
 * NodeSDK builds its OTLP span exporter from the environment, where it reads a timeout of 0 as
 * invalid and keeps its 10 s; the service reads 0 as the spec's indefinite, as for metrics
 * (otlpExporterTimeout): as long as the batch processor waits on an export. So where the OTLP
 * exporter is named, it is built here: alone, NodeSDK still builds its batch processor from
 * the environment (with the SDK's own metrics where asked); beside others, every processor is
 * built here as NodeSDK would (the batch processors without the SDK's experimental metrics).
 * Without otlp nothing here differs from NodeSDK's own: it reads the environment alone.
 */
export async function traceSetup(env: Env, logger: Logger): Promise<TraceSetup> {
  const names = traceExporterNames(env);
  if (!names.includes('otlp')) return { sdk: {} };
  // Over HTTP the exporter appends v1/traces to the base endpoint as written (gRPC has no path).
  const appended =
    otlpTraceProtocol(env) === 'grpc' ? undefined : appendedPathProblem(env, 'traces');
  if (appended) logger.warn(appended);
  const otlp = await otlpSpanExporters(env, logger);
  if (names.length === 1) return { sdk: { traceExporter: otlp }, ending: otlp.ending };
  const processors = await Promise.all(names.map((name) => spanProcessor(name, otlp, env)));
  return { sdk: { spanProcessors: processors.flat() }, ending: otlp.ending };
}
