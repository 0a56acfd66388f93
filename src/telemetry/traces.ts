import { diag } from '@opentelemetry/api';
import type { NodeSDKConfiguration } from '@opentelemetry/sdk-node';
import type { BufferConfig, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { otlpExporterTimeout } from 'carbonscope';
import type { Env } from '../config.js';

/** The batch span processor's wait on one export when OTEL_BSP_EXPORT_TIMEOUT is unset. */
const BSP_EXPORT_TIMEOUT_MS = 30_000;

/** What NodeSDK is given for spans: nothing (it reads the environment), or what replaces that. */
export type TraceSetup = Partial<Pick<NodeSDKConfiguration, 'traceExporter' | 'spanProcessors'>>;

/** The environment's string, trimmed; empty is unset, as the OTel SDK reads its variables. */
function envString(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/**
 * OTEL_TRACES_EXPORTER as NodeSDK reads it: unset or empty is otlp, `none` first is none, `none`
 * among others is otlp alone, `null` is passed over, and each name counts once.
 */
export function traceExporterNames(env: Env): string[] {
  const listed = (envString(env, 'OTEL_TRACES_EXPORTER') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'null');
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
 * The OTLP span exporter for OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, with its timeout given: the
 * rest (endpoint, headers, compression) it reads from the environment as NodeSDK's own would.
 */
async function otlpSpanExporter(env: Env): Promise<SpanExporter> {
  const timeoutMillis = otlpExporterTimeout(env, batchExportTimeout(env), 'TRACES');
  const protocol =
    envString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ??
    envString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter({ timeoutMillis });
  }
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter({ timeoutMillis });
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ timeoutMillis });
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
export async function traceSetup(env: Env): Promise<TraceSetup> {
  const names = traceExporterNames(env);
  if (!names.includes('otlp')) return {};
  const otlp = await otlpSpanExporter(env);
  if (names.length === 1) return { traceExporter: otlp };
  const processors = await Promise.all(names.map((name) => spanProcessor(name, otlp, env)));
  return { spanProcessors: processors.flat() };
}
