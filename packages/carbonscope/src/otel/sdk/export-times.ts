import { checkedInteger, type Env, parseEnv, SettingsError } from '../../settings.js';
import { type SdkIntegerOptions, sdkIntegerSetting, sdkValueAsRead } from './sdk-integer.js';

/** How the OTLP exporters read their timeouts: one not finite and above 0 is their default. */
export const OTLP_TIMEOUT_READING: SdkIntegerOptions = { positive: true, finite: true };

/**
 * The shortest OTEL_METRIC_EXPORT_INTERVAL accepted: a push every millisecond or so keeps a core
 * busy (1 ms used 96 % of one) and floods the collector.
 */
export const MIN_EXPORT_INTERVAL_MS = 100;

/** The OTLP exporter's default timeout, its requests' and retries' together. */
const OTLP_TIMEOUT_MS = 10_000;

/** The longest timeout accepted: 10 min, far under setTimeout's 2^31 - 1 ms (past it, at once). */
export const MAX_TIMEOUT_MS = 600_000;

/**
 * A variable of the OTel spec's Timeout type: whole milliseconds up to MAX_TIMEOUT_MS, in any form
 * the SDK reads (`1e3`, `0x3e8`: sdkIntegerSetting). 0 is the spec's "indefinite", which it lets
 * an SDK read as a very long time: MAX_TIMEOUT_MS, cut like any value to the bound it is used
 * under (the reader's timeout, the export interval). Never none at all: a push with no timeout
 * could hold a stop.
 * Refusing it would leave register's application unmetered for a value the spec allows.
 */
export const timeoutSetting = (reads: SdkIntegerOptions = OTLP_TIMEOUT_READING) =>
  sdkIntegerSetting(0, MAX_TIMEOUT_MS, reads).transform((ms) => ms || MAX_TIMEOUT_MS);

/** The OTLP exporter's own timeouts. */
export const OTLP_TIMEOUTS = {
  OTEL_EXPORTER_OTLP_TIMEOUT: timeoutSetting().optional(),
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: timeoutSetting().optional(),
};

/** The span exporter's, read by the same rule (the service's traces). */
const OTLP_TRACES_TIMEOUTS = {
  OTEL_EXPORTER_OTLP_TIMEOUT: timeoutSetting().optional(),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: timeoutSetting().optional(),
};

/** The signal-specific timeout variable, then OTEL_EXPORTER_OTLP_TIMEOUT; undefined if neither. */
function ownTimeout(env: Env, signal: 'METRICS' | 'TRACES'): number | undefined {
  if (signal === 'TRACES') {
    const t = parseEnv(OTLP_TRACES_TIMEOUTS, env);
    return t.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? t.OTEL_EXPORTER_OTLP_TIMEOUT;
  }
  const t = parseEnv(OTLP_TIMEOUTS, env);
  return t.OTEL_EXPORTER_OTLP_METRICS_TIMEOUT ?? t.OTEL_EXPORTER_OTLP_TIMEOUT;
}

/**
 * The OTLP metric exporter's timeout, given up no later than the periodic reader's: the reader's
 * timeout goes to the SDK's silent error handler, and the exporter's own (10 s, retries included)
 * would block the exports after it, so a refused push would go untold for as long. Reads
 * OTEL_EXPORTER_OTLP_METRICS_TIMEOUT, then OTEL_EXPORTER_OTLP_TIMEOUT (an empty one is unset, as
 * the spec says; 0, indefinite, is timeoutSetting's); a malformed one throws SettingsError naming
 * it, and a reader timeout that is no number of milliseconds, 1 or more, a RangeError: either
 * would be a timeout of NaN, 0 (none) or one that fires at once. Whole milliseconds, a fractional
 * reader timeout rounded down. `signal` TRACES reads OTEL_EXPORTER_OTLP_TRACES_TIMEOUT instead,
 * for a span exporter under a batch processor's export timeout (`readerTimeoutMs`): NodeSDK
 * reads that 0 as invalid and keeps 10 s, where metrics wait as long as their bound allows.
 */
export function otlpExporterTimeout(
  env: Env,
  readerTimeoutMs: number,
  signal: 'METRICS' | 'TRACES' = 'METRICS',
): number {
  if (!(readerTimeoutMs >= 1)) {
    throw new RangeError(
      `readerTimeoutMs: expected milliseconds, 1 or more (got ${readerTimeoutMs})`,
    );
  }
  const own = ownTimeout(env, signal) ?? OTLP_TIMEOUT_MS;
  return Math.floor(Math.min(own, readerTimeoutMs));
}

/** The periodic reader's interval and timeout, from settings already checked. */
export interface PeriodicTimes {
  exportIntervalMillis: number;
  exportTimeoutMillis: number;
  /** The user set a timeout over the interval: cut to it, worth a word. */
  timeoutOverInterval: boolean;
}

/**
 * OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT as a periodic reader takes them:
 * the SDK refuses a timeout over the interval, and a short interval alone (the default 30 s
 * timeout) is a usual setting, so the timeout becomes the interval, as NodeSDK does. 0, the
 * spec's indefinite, is as long as a push may take: the interval. For register's own provider
 * and the service's SDK alike, so that one setting means one thing in both.
 */
export function periodicTimes(env: Env): PeriodicTimes {
  const exportIntervalMillis = checkedInteger(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000);
  const given = checkedInteger(env, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000);
  const timeout = given === 0 ? exportIntervalMillis : given;
  return {
    exportIntervalMillis,
    exportTimeoutMillis: Math.min(timeout, exportIntervalMillis),
    timeoutOverInterval:
      timeout > exportIntervalMillis && Boolean(env.OTEL_METRIC_EXPORT_TIMEOUT?.trim()),
  };
}

/** What follows a timeout set over the interval: where the process goes on, and where it stops. */
const OVER_INTERVAL = {
  goesOn: 'the interval is used',
  stops: 'a push may not outlast the interval between pushes',
} as const;

/**
 * OTEL_METRIC_EXPORT_TIMEOUT set over OTEL_METRIC_EXPORT_INTERVAL (periodicTimes'
 * timeoutOverInterval) as a SettingsError naming the timeout: its value as read, with its text
 * where written otherwise (sdkValueAsRead), and the interval, marked where it is the default;
 * undefined where it is not over. `then` says what the caller does about it: register cuts it to
 * the interval and goes on (`goesOn`), the service will not start (`stops`). One wording for
 * both, from settings already checked, as periodicTimes reads them.
 */
export function exportTimeoutOverInterval(
  env: Env,
  then: keyof typeof OVER_INTERVAL,
): SettingsError | undefined {
  return timeoutOverIntervalOf(env, then, periodicTimes(env));
}

/**
 * exportTimeoutOverInterval from `times` the caller has read already (register's own provider
 * keeps them). Not public: `times` read from another env would word a refusal its env does not
 * hold.
 */
export function timeoutOverIntervalOf(
  env: Env,
  then: keyof typeof OVER_INTERVAL,
  times: PeriodicTimes,
): SettingsError | undefined {
  const { exportIntervalMillis, timeoutOverInterval } = times;
  if (!timeoutOverInterval) return undefined;
  const interval = env.OTEL_METRIC_EXPORT_INTERVAL?.trim()
    ? `${exportIntervalMillis}`
    : `${exportIntervalMillis}, its default`;
  return new SettingsError(
    'OTEL_METRIC_EXPORT_TIMEOUT',
    `${sdkValueAsRead(env.OTEL_METRIC_EXPORT_TIMEOUT ?? '', 'ms')} is over OTEL_METRIC_EXPORT_INTERVAL (${interval}): ${OVER_INTERVAL[then]}`,
  );
}
