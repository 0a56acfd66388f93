import { slips } from './nearest-name.js';

export const OTEL_PREFIX = 'OTEL_';

/** What an OTLP exporter reads, per signal, after OTEL_EXPORTER_OTLP_ (the JS exporters'). */
const OTLP_EXPORTER_NAMES: readonly string[] = [
  'ENDPOINT',
  'PROTOCOL',
  'TIMEOUT',
  'HEADERS',
  'COMPRESSION',
  'CERTIFICATE',
  'CLIENT_CERTIFICATE',
  'CLIENT_KEY',
];

/** OTEL_EXPORTER_OTLP_<signal><name> for each of `signals` (`''`, `METRICS_`) and `names`. */
function otlpVariables(signals: readonly string[], names: readonly string[]): string[] {
  return signals.flatMap((signal) => names.map((name) => `OTEL_EXPORTER_OTLP_${signal}${name}`));
}

/**
 * The OTEL_* variables carbonscope reads (the library README's table): its own SDK's exporter,
 * reader and resource, its diag lines, its checks of an application's NodeSDK settings. Its
 * OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS is a setting (SETTING_NAMES).
 */
export const OTEL_VARIABLES_READ: readonly string[] = [
  'OTEL_SDK_DISABLED',
  'OTEL_METRICS_EXPORTER',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
  'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
  'OTEL_EXPORTER_PROMETHEUS_HOST',
  'OTEL_EXPORTER_PROMETHEUS_PORT',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_SERVICE_NAME',
  'OTEL_LOG_LEVEL',
  ...otlpVariables(['', 'METRICS_'], OTLP_EXPORTER_NAMES),
];

/** Each OTLP exporter's own variables, per signal (the spec's, profiles' included). */
const OTLP_SIGNAL_VARIABLES = otlpVariables(
  ['', 'TRACES_', 'METRICS_', 'LOGS_', 'PROFILES_'],
  [...OTLP_EXPORTER_NAMES, 'INSECURE'],
);

/**
 * The OTEL_* variables that OpenTelemetry reads besides carbonscope's: those the JS SDK 2.x and
 * its contributions read (found in node_modules/@opentelemetry, 2026-12-06; the unit test reads
 * them there again), the spec's for other signals and exporters, and those the Kubernetes
 * operator injects. A name of these is never a slip, however near one of carbonscope's
 * (OTEL_EXPORTER_OTLP_LOGS_TIMEOUT is five from OTEL_EXPORTER_OTLP_TIMEOUT), and a name nearer
 * one of these than any of carbonscope's is left to the SDK that reads it.
 */
export const OTEL_SDK_VARIABLES: readonly string[] = [
  ...OTLP_SIGNAL_VARIABLES,
  // The spec's names before it settled on the plural signals.
  'OTEL_EXPORTER_OTLP_SPAN_INSECURE',
  'OTEL_EXPORTER_OTLP_METRIC_INSECURE',
  'OTEL_TRACES_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_PROPAGATORS',
  'OTEL_METRICS_EXEMPLAR_FILTER',
  'OTEL_SEMCONV_STABILITY_OPT_IN',
  'OTEL_CONFIG_FILE',
  'OTEL_EXPERIMENTAL_CONFIG_FILE',
  'OTEL_EXPERIMENTAL_RESOURCE_DETECTORS',
  'OTEL_ENTITIES',
  'OTEL_NODE_RESOURCE_DETECTORS',
  'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
  'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
  'OTEL_NODE_EXPERIMENTAL_SDK_METRICS',
  'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_SCHEDULE_DELAY',
  'OTEL_BLRP_EXPORT_TIMEOUT',
  'OTEL_BLRP_MAX_QUEUE_SIZE',
  'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT',
  'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
  'OTEL_EXPORTER_ZIPKIN_TIMEOUT',
  'OTEL_EXPORTER_JAEGER_AGENT_HOST',
  'OTEL_EXPORTER_JAEGER_AGENT_PORT',
  'OTEL_EXPORTER_JAEGER_ENDPOINT',
  'OTEL_EXPORTER_JAEGER_USER',
  'OTEL_EXPORTER_JAEGER_PASSWORD',
  'OTEL_EXPORTER_JAEGER_TIMEOUT',
  'OTEL_RESOURCE_ATTRIBUTES_POD_NAME',
  'OTEL_RESOURCE_ATTRIBUTES_POD_UID',
  'OTEL_RESOURCE_ATTRIBUTES_NODE_NAME',
];

/**
 * The most slips an OTEL_* name is told at: two (`OTEL_METRICS_EXPORT_INTERVALL`). Stricter
 * than carbonscope's own names' one in six: these are long and share most of their words, and
 * the other languages' SDKs read more than any list holds.
 */
const MAX_OTEL_SLIPS = 2;

/** A name and how many slips it is from the one asked about. */
interface Nearest {
  name: string | undefined;
  distance: number;
}

/** The name of `names` nearest `upper`, within MAX_OTEL_SLIPS, those `skipped` has aside. */
function nearestOf(upper: string, names: Iterable<string>, skipped?: ReadonlySet<string>): Nearest {
  let best: Nearest = { name: undefined, distance: MAX_OTEL_SLIPS + 1 };
  for (const name of names) {
    if (skipped?.has(name)) continue;
    const distance = slips(upper, name, best.distance);
    if (distance < best.distance) best = { name, distance };
  }
  return best;
}

/**
 * The OTEL_* variable of `read` that `upper` (an upper-case name none of them) was most likely
 * meant to be: the same name in another case (`otel_metrics_exporter`); else one of `read` at
 * most MAX_OTEL_SLIPS away, and nearer than any OpenTelemetry reads besides (OTEL_SDK_VARIABLES).
 * None for a name OpenTelemetry reads.
 */
export function meantOtelName(
  given: string,
  upper: string,
  read: ReadonlySet<string>,
): string | undefined {
  if (read.has(upper)) return given === upper ? undefined : upper;
  if (otherNames().has(upper)) return undefined;
  const ours = nearestOf(upper, read);
  if (ours.name === undefined) return undefined;
  return nearestOf(upper, otherNames(), read).distance > ours.distance ? ours.name : undefined;
}

let others: ReadonlySet<string> | undefined;

/** OTEL_SDK_VARIABLES as a set, made at the first OTEL_* name that is not carbonscope's. */
function otherNames(): ReadonlySet<string> {
  others ??= new Set(OTEL_SDK_VARIABLES);
  return others;
}
