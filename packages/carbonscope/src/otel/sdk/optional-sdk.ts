import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Env, quotedSetting, SettingsError } from '../../settings.js';
import { inSingleExecutable } from '../../single-executable.js';
import { messageOf } from '../../thrown-text.js';
import { type AgentFactory, exportsWithin, OwnRequests } from './export-deadline.js';
import { MAX_TIMEOUT_MS, otlpExporterTimeout } from './export-times.js';
import { exporterAgentOptions } from './last-push-agent.js';
import { madeWithoutNonFiles } from './otlp-tls-files.js';
import { bodyReason, shownReason } from './refusal-reason.js';
import { type TlsVariables, tlsFailureText } from './tls-failure.js';

/**
 * The OpenTelemetry SDK packages carbonscope uses only when it must start a meter provider
 * itself (`--import carbonscope/register` with no SDK in the app, the CLI's `--otlp`). They are
 * optional peer dependencies, so a library user who brings an SDK (2.x or 3.x) installs nothing
 * twice; they are imported on demand, and a missing one is named in the error.
 */
export class MissingSdkError extends Error {
  constructor(
    readonly packages: readonly string[],
    what: string,
    message = `${what} needs ${packages.join(', ')}: npm install ${packages.join(' ')}`,
  ) {
    super(message);
    this.name = 'MissingSdkError';
  }
}

/**
 * An SDK package is installed at a version carbonscope's own SDK cannot run on: the 1.x line
 * (sdk-metrics 1.x, exporters 0.5x and older), which an application may still run. Without this
 * the start failed on a function 2.x added (`resources.defaultResource is not a function`).
 */
export class SdkTooOldError extends MissingSdkError {
  constructor(
    readonly found: readonly { name: string; version: string; wanted: string }[],
    what: string,
  ) {
    const names = found.map((f) => f.name);
    const listed = found.map((f) => `${f.name} ${f.wanted} (${f.version} is installed)`);
    super(
      names,
      what,
      `${what} needs ${listed.join(', ')}: carbonscope's own SDK does not run on the 1.x line`,
    );
    this.name = 'SdkTooOldError';
  }
}

const SDK_METRICS = '@opentelemetry/sdk-metrics';
const RESOURCES = '@opentelemetry/resources';
const OTLP_PROTO = '@opentelemetry/exporter-metrics-otlp-proto';
const OTLP_JSON = '@opentelemetry/exporter-metrics-otlp-http';
export const PROMETHEUS = '@opentelemetry/exporter-prometheus';

function notFound(err: unknown, name: string): boolean {
  const e = err as { code?: string; message?: string };
  return (
    (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') &&
    String(e.message).includes(name)
  );
}

/**
 * The module as the package gives it. These packages are CommonJS, whose export names Node reads
 * from the source; where the application broke what that reading uses (pidtree 0.3 replaces
 * String.prototype.startsWith), import() gives `default` alone, which holds them all.
 */
function withNames(namespace: Record<string, unknown>): unknown {
  const only = Object.keys(namespace);
  const cjs = namespace.default;
  return only.length === 1 && only[0] === 'default' && typeof cjs === 'object' && cjs !== null
    ? cjs
    : namespace;
}

/**
 * What a single executable application is told of packages it lacks: `npm install` beside the
 * executable does not reach them, since its import() resolves from the working directory, and
 * a packaged service has no node_modules. undefined elsewhere (npm install says it all).
 */
function missingInExecutable(packages: readonly string[], what: string): string | undefined {
  if (!inSingleExecutable()) return undefined;
  return (
    `${what} needs ${packages.join(', ')}, which a single executable application imports from ` +
    `its working directory (${process.cwd()}), not from its own file: start the SDK in your ` +
    `bundle, with CarbonscopeInstrumentation (carbonscope's README, "In your build"), or ` +
    'install them there'
  );
}

/** Imports every package or throws one MissingSdkError naming all that are missing. */
export async function importAll<T extends unknown[]>(
  names: { [K in keyof T]: string },
  what: string,
): Promise<T> {
  const results = await Promise.allSettled(
    names.map(async (name) => withNames(await import(name))),
  );
  const missing = names.filter((name, i) => {
    const r = results[i];
    return r.status === 'rejected' && notFound(r.reason, name);
  });
  if (missing.length) throw new MissingSdkError(missing, what, missingInExecutable(missing, what));
  return results.map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  }) as T;
}

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');
type Resources = typeof import('@opentelemetry/resources');

/**
 * The low ends of the peer ranges in package.json, as a user reads them. Only what is older is
 * refused: the 1.x line lacks what the own SDK calls. A line newer than the ranges is tried.
 */
const SDK_LINE = { wanted: '2.x or 3.x', fits: (major: number) => major >= 2 };
const EXPORTER_LINE = {
  wanted: '0.200 to 0.3xx',
  fits: (major: number, minor: number) => major > 0 || minor >= 200,
};

/** The line `name` needs where `version` is older (a prerelease by its line); else undefined. */
export function tooOld(name: string, version: string): string | undefined {
  // Not the scope and prefix as one literal: the packed-library test reads every quoted
  // '@opentelemetry/…' in the shipped code as a package it imports.
  const line = name.includes('/exporter-') ? EXPORTER_LINE : SDK_LINE;
  const [major, minor] = version.split('.').map((part) => Number.parseInt(part, 10));
  if (major === undefined || minor === undefined || Number.isNaN(major + minor)) return undefined;
  return line.fits(major, minor) ? undefined : line.wanted;
}

/**
 * The version of `name` as resolved from here, from the package.json above its entry: undefined
 * where none names it (a bundle), which is then not checked.
 */
export function installedVersion(name: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(fileURLToPath(import.meta.resolve(name)));
  } catch {
    return undefined;
  }
  for (;;) {
    const version = versionIn(join(dir, 'package.json'), name);
    if (version !== null) return version;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** `name`'s version in the package.json at `file`; null where that file is not `name`'s. */
function versionIn(file: string, name: string): string | undefined | null {
  try {
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    if (pkg.name !== name) return null;
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return null;
  }
}

/**
 * Whether a module of `name` is of the 1.x line by its shape, for a bundle, where no package.json
 * gives its version (a CommonJS one has no import.meta.resolve either): resources 1.x lacks the
 * defaultResource() the own SDK calls (2.0 added it); sdk-metrics 1.x's MeterProvider still has
 * addMetricReader (2.0 removed it). Other packages are not judged so.
 */
function ofLine1x(name: string, module: unknown): boolean {
  const m = module as {
    defaultResource?: unknown;
    MeterProvider?: { prototype?: { addMetricReader?: unknown } };
  };
  if (name === RESOURCES) return typeof m?.defaultResource !== 'function';
  if (name === SDK_METRICS)
    return typeof m?.MeterProvider?.prototype?.addMetricReader === 'function';
  return false;
}

/**
 * Throws SdkTooOldError naming every package of `names` installed outside its line: by its
 * version, or where none is found by the shape of its module in `modules` (ofLine1x).
 */
export function checkSdkVersions(
  names: readonly string[],
  what: string,
  modules: readonly unknown[] = [],
  versionOf: (name: string) => string | undefined = installedVersion,
): void {
  const found = names.flatMap((name, i) => {
    const version = versionOf(name);
    if (version === undefined) {
      const old = i < modules.length && ofLine1x(name, modules[i]);
      return old ? [{ name, version: '1.x, bundled,', wanted: tooOld(name, '1.0.0') ?? '' }] : [];
    }
    const wanted = tooOld(name, version);
    return wanted === undefined ? [] : [{ name, version, wanted }];
  });
  if (found.length) throw new SdkTooOldError(found, what);
}

/**
 * The metrics SDK and the resources package, imported with `exporters` (exporterPackages) so
 * that one error names every package missing: one install, not one per start.
 */
export async function importSdk(
  what: string,
  exporters: readonly string[] = [],
): Promise<[SdkMetrics, Resources]> {
  const names: [string, string, ...string[]] = [SDK_METRICS, RESOURCES, ...exporters];
  const modules = await importAll<[SdkMetrics, Resources, ...unknown[]]>(names, what);
  checkSdkVersions(names, what, modules);
  const [sdk, resources] = modules;
  return [sdk, resources];
}

/**
 * Whether the packages an own provider for `exporters` imports resolve, synchronously (the
 * `exit` event allows nothing else): where one does not, no push was ever to come. Resolved
 * from here, as importAll's imports are.
 */
export function sdkResolves(exporters: readonly string[], env: Env): boolean {
  try {
    for (const name of [SDK_METRICS, RESOURCES, ...exporterPackages(exporters, env)]) {
      import.meta.resolve(name);
    }
    return true;
  } catch {
    return false;
  }
}

/** The exporter packages `OTEL_METRICS_EXPORTER`'s exporters need (console is the SDK's). */
export function exporterPackages(exporters: readonly string[], env: Env): string[] {
  return exporters.flatMap((exporter) => {
    if (exporter === 'prometheus') return [PROMETHEUS];
    if (exporter === 'otlp') return [otlpProtocol(env) === 'http/json' ? OTLP_JSON : OTLP_PROTO];
    return [];
  });
}

/** OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL; the OTel spec reads an empty variable as unset. */
export function otlpProtocol(env: Env): string {
  return (
    env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL?.trim() ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
    'http/protobuf'
  );
}

const TEMPORALITY = 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE';
const TEMPORALITIES = ['cumulative', 'delta', 'lowmemory'];

/**
 * Throws SettingsError for a temporality preference the exporter would not read: it takes a
 * value it does not know as cumulative, with a diag line only OTEL_LOG_LEVEL shows, so a
 * collector that asked for delta would get cumulative in silence. Checked as the exporter reads
 * it: any case, untrimmed, empty as unset.
 */
export function checkTemporalityPreference(env: Env): void {
  const raw = env[TEMPORALITY];
  if (raw === undefined || raw.trim() === '' || TEMPORALITIES.includes(raw.toLowerCase())) return;
  throw new SettingsError(
    TEMPORALITY,
    `expected cumulative, delta or lowmemory (got ${quotedSetting(raw)})`,
  );
}

/**
 * The agents an OTLP exporter of carbonscope's is given: `agents`, or made as the exporter makes
 * its own when given none (from options, which every exporter of the peer range takes). They
 * tell its requests from the application's, which its deadline must not touch.
 */
export function exporterOwnRequests(env: Env, agents?: AgentFactory): OwnRequests {
  return new OwnRequests(agents ?? exporterAgentOptions(env));
}

/**
 * The OTLP/HTTP metric exporter for the configured protocol (protobuf by default, JSON for
 * `http/json`); it reads the standard OTEL_EXPORTER_OTLP_* variables; `url` overrides the
 * endpoint, `timeoutMillis` the timeout, which bounds each export as a whole (exportsWithin), and
 * `agents` its HTTP agents. A temporality preference or a timeout it would not read throws
 * SettingsError.
 */
export async function otlpMetricExporter(
  env: Env,
  what: string,
  url?: string,
  timeoutMillis?: number,
  agents?: AgentFactory,
): Promise<import('@opentelemetry/sdk-metrics').PushMetricExporter> {
  checkTemporalityPreference(env);
  const json = otlpProtocol(env) === 'http/json';
  const [exporter] = await importAll<[typeof import('@opentelemetry/exporter-metrics-otlp-proto')]>(
    [json ? OTLP_JSON : OTLP_PROTO],
    what,
  );
  // Read here by the exporter's rule when not given: the whole export is bounded by it.
  const timeout = timeoutMillis ?? otlpExporterTimeout(env, MAX_TIMEOUT_MS);
  const own = exporterOwnRequests(env, agents);
  const options = { url, timeoutMillis: timeout, httpAgentOptions: own.agents };
  const made = madeWithoutNonFiles('METRICS', () => new exporter.OTLPMetricExporter(options));
  return exportsWithin(made, timeout, own);
}

export type PushMetricExporter = import('@opentelemetry/sdk-metrics').PushMetricExporter;
export type ExportResult = Parameters<Parameters<PushMetricExporter['export']>[1]>[0];

/** ExportResultCode.SUCCESS of @opentelemetry/core (the SDK's dependency, not carbonscope's). */
const EXPORT_SUCCESS = 0;
/** ExportResultCode.FAILED, likewise. */
export const EXPORT_FAILED = 1;

export type ResourceMetrics = Parameters<PushMetricExporter['export']>[0];

/**
 * The exporter, handing each export's result, with what it carried, to `onResult`: the
 * reader's forceFlush resolves even when the export failed (the SDK hands the error to its
 * global handler, silent by default), so the result is the only word on whether the collector
 * took the metrics.
 */
export function withResults(
  inner: PushMetricExporter,
  onResult: (result: ExportResult, metrics: ResourceMetrics) => void,
): PushMetricExporter {
  return {
    export: (metrics, done) =>
      inner.export(metrics, (result) => {
        onResult(result, metrics);
        done(result);
      }),
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    // The reader takes the exporter's choices (OTLP's temporality preference) when it has them.
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  };
}

/**
 * The exporter while `open()` says so; after, each export succeeds without going anywhere: a
 * provider that is stopped pushes once more (its reader's last collection), which a provider
 * whose figures were carried elsewhere must not.
 */
export function gated(inner: PushMetricExporter, open: () => boolean): PushMetricExporter {
  return {
    export: (metrics, done) => {
      if (open()) inner.export(metrics, done);
      else done({ code: EXPORT_SUCCESS });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: inner.selectAggregationTemporality?.bind(inner),
    selectAggregation: inner.selectAggregation?.bind(inner),
  };
}

/**
 * Why an export failed, in a few words: with the HTTP status when the collector sent one, and
 * the reason its answer's body gave (bodyReason: Prometheus refusing a delta push says so only
 * there), bounded and escaped, `secrets` masked in it before it is cut (shownReason); a TLS
 * handshake's failure with OpenSSL's reason alone and the variable that puts it right (of `tls`,
 * those the exporter reads: otlpTlsVariables).
 */
export function failureOf(
  result: ExportResult,
  secrets: readonly string[] = [],
  tls?: TlsVariables,
): string | undefined {
  if (result.code === EXPORT_SUCCESS) return undefined;
  const err: unknown = result.error;
  if (!err) return 'the exporter gave no reason';
  // An application's exporter may end with any value (reportingPushFailures is public): one whose
  // parts cannot be read (a getter, a Proxy's trap, `in` on a string) is named as messageOf can.
  try {
    return errorFailure(err as Error, secrets, tls);
  } catch {
    return messageOf(err);
  }
}

/** failureOf's text for an error; it may throw where the error's parts cannot be read. */
function errorFailure(err: Error, secrets: readonly string[], tls?: TlsVariables): string {
  const told: unknown = err.message;
  // Never empty, nor undefined: a failure with no text would be told as a success.
  const message = (typeof told === 'string' ? told : messageOf(err)) || messageOf(err.name);
  if (!('code' in err) || typeof err.code !== 'number') return tlsFailureText(err, tls) ?? message;
  const status = `${message} (HTTP ${err.code})`;
  const reason = reasonOf(err);
  return reason === undefined ? status : `${status}: ${shownReason(reason, secrets)}`;
}

/**
 * The reason in a refusal's body: the raw bytes and type export-deadline keeps for its own
 * exporters (its `refusal`), else the text OTLPExporterError's `data` holds (an application's
 * exporter; the exporter decodes the body as UTF-8, which a long protobuf Status may not survive).
 */
function reasonOf(err: Error): string | undefined {
  const { data, contentType } = err as { data?: unknown; contentType?: unknown };
  if (!(data instanceof Uint8Array) && typeof data !== 'string') return undefined;
  return bodyReason(data, typeof contentType === 'string' ? contentType : '');
}
