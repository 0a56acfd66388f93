import { randomUUID } from 'node:crypto';
import type { Clock } from '../clocks.js';
import { settlesWithin } from '../deadline.js';
import type { GpuShareReader, ProcessCpuReader } from '../energy/index.js';
import type { SelectSourcesOptions } from '../energy/sources/index.js';
import { type Logger, redactionList, redactSecrets, stderrLogger } from '../log.js';
import { misspeltVariablesWarning } from '../misspelt-variables.js';
import {
  alignedDeltaStarts,
  bindMetrics,
  CARRIED_POINTS_MAX,
  carryingFailedPushes,
  droppedText,
  malformedOtelVariables,
  type ReportingExporter,
  refusedAsMalformed,
  reportingFailures,
  SeenTemporality,
  sdkResource,
  withCurrentGauges,
} from '../otel/binding/index.js';
import type { TlsVariables } from '../otel/sdk/index.js';
import {
  EXPORT_TIMED_OUT,
  exporterPackages,
  failureOf,
  gated,
  importSdk,
  otlpMetricExporter,
  otlpTlsFileProblems,
  otlpTlsVariables,
  withResults,
} from '../otel/sdk/index.js';
import { Carbonscope } from '../runtime/index.js';
import {
  type Env,
  loadSettings,
  otlpSecretsOf,
  type Settings,
  SettingsError,
  secretsOf,
} from '../settings.js';
import { messageOf } from '../thrown-text.js';
import { urlSecrets, withoutCredentials } from '../url-credentials.js';
import { VERSION } from '../version.js';
import { argvSecrets, type CommonOptions, UsageError } from './args.js';
import { checkAppendable } from './csv.js';
import { EndPush } from './end-push.js';
import { HostCpuMean } from './host-cpu-read.js';
import { IntensityMix } from './intensity-mix.js';
import { KeptNotes } from './kept-notes.js';
import { LinesUntilEnd } from './lines-until-end.js';
import { PushesInFlight } from './pushes-in-flight.js';
import { type RamUse, RamUseMean } from './report.js';
import { unreadZoneWarning } from './unread-zone.js';

/** The OTLP/HTTP metrics URL: a bare endpoint gets the standard `/v1/metrics` path. */
export function otlpMetricsUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/v1/metrics';
  return url.toString();
}

/**
 * How long the last push may take, retries included: a collector that never answers would
 * otherwise add the exporter's own timeouts and retries (about 18 s) to every run.
 */
export const PUSH_TIMEOUT_MS = 3_000;

/** The meter provider of --otlp and what its exporter's exports came to. */
interface OtlpPush {
  provider: import('@opentelemetry/sdk-metrics').MeterProvider;
  /**
   * Whether any push got through (the periodic ones count), and how the pushes expressed their
   * figures (the exporter's temporality preference).
   */
  outcome: {
    delivered: boolean;
    temporality: SeenTemporality;
    /**
     * How many pushes failed whose points no later push carries: those the collector refused as
     * malformed (carryingFailedPushes sends the others' again). Those before the last are told
     * by no line without `reporting`.
     */
    lost: number;
    /** The pushes that failed before the last one, where no line told them. */
    untold?: number;
    /**
     * The pushes refused once the end's had gone out (a periodic one, sent before it): no push
     * carries their delta points, which a delivered end counts as untold. Not a 400's: `lost`
     * counts it, whenever it came.
     */
    afterEnd: number;
    /**
     * The pushes cut at their deadline once the end's had gone out: they may have got through,
     * and no push carries their delta points, which a delivered end says it does not know.
     */
    cutAfterEnd: number;
  };
  /** The URL pushed to, masked (withoutCredentials), as every line names it. */
  shown: string;
  /** Where pushes that fail are told as they happen (monitor). */
  reporting?: ReportingExporter;
  /**
   * The partial successes and dropped points: `run`'s told at its end (the others go nowhere),
   * `monitor`'s as they come; counted for the end's line either way (shortfalls).
   */
  kept: KeptNotes;
  /** What a refusal's reason may echo (redactionList): masked before the reason is cut. */
  secrets: readonly string[];
  /** The TLS variables its exporter reads, which a failed handshake names. */
  tls: TlsVariables;
  /** The pushes not answered yet, and whether one was cut at its deadline. */
  pushes: PushesInFlight;
  /** The end's own push, whose result alone the end line tells. */
  end: EndPush;
  /** Where the pushes' lines go until the end line, and nowhere after it. */
  lines: LinesUntilEnd;
  /**
   * Lets no more push out: the reader's shutdown flushes once more, which after a last push
   * that got through sent the same figures a second time.
   */
  closeGate(): void;
}

/**
 * A meter provider whose periodic reader pushes to --otlp, and where its exports' results go;
 * the SDK is loaded only for this. With `periodic`, pushes that fail while it runs are told
 * there as register tells them (once, and the recovery): a monitor may run for hours.
 */
async function otlpPush(
  endpoint: string,
  env: Env,
  attributes: Record<string, string>,
  intervalMs: number,
  periodic: Logger | undefined,
  carriedMax = CARRIED_POINTS_MAX,
): Promise<OtlpPush> {
  const [sdk, resources] = await importSdk('--otlp', exporterPackages(['otlp'], env));
  const outcome: OtlpPush['outcome'] = {
    delivered: false,
    temporality: new SeenTemporality(),
    lost: 0,
    afterEnd: 0,
    cutAfterEnd: 0,
  };
  const url = otlpMetricsUrl(endpoint);
  const own = alignedDeltaStarts(await otlpMetricExporter(env, '--otlp', url, PUSH_TIMEOUT_MS));
  // A refusing proxy's body may echo a token (failureOf masks them before it cuts its reason).
  const secrets = [...urlSecrets(url), ...otlpSecretsOf(env)];
  const tls = otlpTlsVariables(env, 'METRICS');
  // `run` tells no push while it runs (its command's output is the user's): its lines go nowhere,
  // but those no later line takes back (a partial success, dropped points), kept for its end.
  // `monitor` tells them as they come (told to its logger from the start); both ends count them.
  const quiet = stderrLogger({ level: 'silent' });
  const lines = new LinesUntilEnd();
  const kept = new KeptNotes();
  if (periodic) kept.tell(lines.through(periodic));
  const carrying = reportingFailures(own, url, lines.through(periodic ?? quiet), {
    secrets,
    tls,
    notes: kept.note,
  });
  const reporting = periodic ? carrying : undefined;
  let open = true;
  const pushes = new PushesInFlight();
  const end = new EndPush();
  const results = withResults(carrying, (result, metrics) => {
    outcome.temporality.see(metrics);
    kept.see(result, metrics);
    const failure = failureOf(result);
    if (failure === undefined) outcome.delivered = true;
    else {
      const malformed = refusedAsMalformed(result);
      if (malformed) outcome.lost += 1;
      // The end's own counts too, told by the end line where it failed. One cut at its deadline
      // may have got through: not lost, not known either.
      if (!end.gone) return;
      if (failure === EXPORT_TIMED_OUT) outcome.cutAfterEnd += 1;
      else if (!malformed) outcome.afterEnd += 1;
    }
  });
  // A failed push's delta points go with the next export, the last one included, counted there.
  const sent = pushes.track(end.mark(results));
  const exporter = gated(carryingFailedPushes(sent, carrying, carriedMax), () => open);
  const provider = new sdk.MeterProvider({
    // As the OTel SDK makes one, the run's own attributes last: its service.instance.id keeps
    // two runs at once two series even where OTEL_RESOURCE_ATTRIBUTES sets one for every process.
    resource: sdkResource(resources, { 'service.name': 'carbonscope-cli' }, attributes),
    readers: [
      // A monitor's gauges push only what their callbacks observe now, as register's do.
      withCurrentGauges(
        sdk,
        new sdk.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: intervalMs }),
      ),
    ],
  });
  return {
    provider,
    outcome,
    shown: withoutCredentials(url),
    ...(reporting ? { reporting } : {}),
    kept,
    secrets: redactionList(secrets),
    tls,
    pushes,
    end,
    lines,
    closeGate: () => {
      open = false;
    },
  };
}

/** Pushes what the provider holds now: why that failed, or undefined when it was delivered. */
async function finalPush(push: OtlpPush): Promise<string | undefined> {
  const { provider, outcome, reporting } = push;
  // No next export comes: its failure is told by close(), in one line with what it dropped.
  reporting?.ending(false);
  // Under delta, what the pushes refused as malformed before it carried is lost: close says it.
  if (!reporting) outcome.untold = outcome.lost;
  let thrown: string | undefined;
  push.end.begin();
  const pushed = provider.forceFlush().catch((err: unknown) => {
    thrown = messageOf(err);
  });
  const settled = await settlesWithin(pushed, PUSH_TIMEOUT_MS);
  // The end's own push's answer, whatever the others' (a periodic push cut after it got through
  // is not its end), even where the flush still waits for them.
  const own = push.end.result;
  const failure = own ? failureOf(own, push.secrets, push.tls) : thrown;
  // The exporter's own timeout is PUSH_TIMEOUT_MS too, from the push's start: the same end, said
  // in the deadline's words whichever timer fired.
  if (failure === EXPORT_TIMED_OUT) return NO_ANSWER;
  if (failure !== undefined || own || settled) return failure;
  return NO_ANSWER;
}

const NO_ANSWER = `no answer within ${PUSH_TIMEOUT_MS / 1000} s`;

/**
 * How many pushes failed before the last one, told by no line, whose figures no later push
 * carries: only under delta temporality (a cumulative push carries the totals); 0 otherwise.
 */
function lostUntold({ temporality, untold }: OtlpPush['outcome']): number {
  return untold && temporality.value !== 'cumulative' ? untold : 0;
}

/**
 * What the collector lacks of the pushes that got through, as KeptNotes counted it: the
 * delta points the carrying's cap dropped before the last push that got through, and the points
 * the collector rejected (partial successes), each `N …`; none where there are none.
 */
function shortfalls(push: OtlpPush): string[] {
  const capped = push.kept.droppedBefore;
  return [
    ...(capped > 0
      ? [`${capped} delta data points that failed pushes carried (dropped, as told above)`]
      : []),
    ...(push.kept.rejectedPoints > 0 ? [rejectedText(push.kept)] : []),
  ];
}

/**
 * `6 of the 40 data points of 2 pushes that got through, which the collector rejected (…)`: a sum
 * over pushes, which under cumulative temporality counts a series rejected at each push again.
 */
function rejectedText(kept: KeptNotes): string {
  const of = `of the ${kept.takenPoints} data points of ${pushesText(kept.takenPushes)}`;
  return `${kept.rejectedPoints} ${of} that got through, which the collector rejected (a partial success, as told above)`;
}

/** The line before a failed end's where pushes are in flight: their answers are not told. */
function inFlightText(count: number, shown: string): string {
  const them = count === 1 ? 'it' : 'they';
  return `${pushesText(count)} to ${shown} still in flight at the end: whether ${them} got through is not told`;
}

/** Other pushes whose fate is not known: those cut at their deadline, and those in flight. */
interface UnknownPushes {
  cut: number;
  flying: number;
}

/** `cut` and `flying` where there are any and the pushes are delta (else the end's carries all). */
function deltaOnly(
  outcome: OtlpPush['outcome'],
  cut: number,
  flying: number,
): UnknownPushes | undefined {
  if (cut + flying === 0 || outcome.temporality.value === 'cumulative') return undefined;
  return { cut, flying };
}

/**
 * `1 other push cut at its deadline: whether it got through is not told (…)`, in the words of a
 * failed end's pushes in flight (inFlightText).
 */
function unknownText({ cut, flying }: UnknownPushes, outcome: OtlpPush['outcome']): string {
  const count = cut + flying;
  const [them, its] = count === 1 ? ['it', 'its'] : ['they', 'their'];
  const how =
    flying === 0
      ? `cut at ${its} deadline`
      : cut === 0
        ? 'still in flight at the end'
        : `cut at ${its} deadline or still in flight at the end`;
  const carried = `what ${them} carried${ofDelta(outcome)} is in no other push: delta temporality`;
  return `${pushesText(count, 'other ')} ${how}: whether ${them} got through is not told (${carried})`;
}

/** `1 push`, `3 earlier pushes`. */
function pushesText(count: number, adjective = ''): string {
  return `${count} ${adjective}${count === 1 ? 'push' : 'pushes'}`;
}

/** ` of delta metrics` where cumulative ones went beside them (their next push carried them). */
function ofDelta(outcome: OtlpPush['outcome']): string {
  return outcome.temporality.value === 'mixed' ? ' of delta metrics' : '';
}

/** What those pushes lost, where the last push got through: `what 1 earlier push … lost (…)`. */
function lostText(outcome: OtlpPush['outcome']): string {
  const pushes = pushesText(lostUntold(outcome), 'earlier ');
  return `what ${pushes} that failed carried${ofDelta(outcome)}: it is lost (delta temporality)`;
}

/** The same, after a last push that failed too: `, and what 1 earlier push that failed carried`. */
function untoldText(outcome: OtlpPush['outcome']): string {
  const lost = lostUntold(outcome);
  if (lost === 0) return '';
  return `, and what ${pushesText(lost, 'earlier ')} that failed carried${ofDelta(outcome)}`;
}

/**
 * How session.close() ended the pushes: `none` without --otlp; `pushed`, every figure delivered,
 * not yet said; `told`, delivered less what earlier pushes that failed carried (delta
 * temporality), points the carrying dropped or points the collector rejected, or with other
 * pushes cut at their deadline or in flight whose delta points no push carries, said in its line;
 * `failed`, the last push failed, said in its line.
 */
export type PushEnd = 'none' | 'pushed' | 'told' | 'failed';

/**
 * How session.discard() left the pushes: `none` got through; `pushed`, one did (its figures
 * cover no command); `unanswered`, one of them had no answer within PUSH_TIMEOUT_MS (cut at it,
 * the latest or an earlier one, or still in flight after discard's wait), and may have got
 * through.
 */
export type Discarded = 'none' | 'pushed' | 'unanswered';

export interface Session {
  config: Settings;
  logger: Logger;
  /**
   * The text with every secret the logger masks masked: for what is written outside it (the
   * summary, the JSON, an error line), which may quote a path or a command line holding one.
   */
  redact(text: string): string;
  /** The command's (or the machine's) carbonscope. */
  meter: Carbonscope;
  /**
   * The --otlp URL as every line names it: the one pushed to (a bare endpoint with its
   * `/v1/metrics`), credentials and secret parameters masked; undefined without --otlp.
   */
  otlpTarget: string | undefined;
  runId: string;
  /**
   * Monotonic ms the meter's samples cover, from its baseline to its latest: the time its totals
   * are energy over. 0 before any sample.
   */
  sampledMs(): number;
  /**
   * Ms the machine was suspended within the samples so far: the monotonic clock stands still
   * then, and a counter's joules go on (RAPL counts suspend-to-idle).
   */
  suspendedMs(): number;
  /**
   * Host CPU busy share over the time so far whose CPU time was read (HostCpuMean), 0..100; null
   * before any such sample.
   */
  cpuUtilizationPercent(): number | null;
  /** The host's memory in use averaged over the samples so far; null before any sample. */
  ramUse(): RamUse | null;
  /** The grid sources that priced the energy so far, and how much of it each. */
  intensityMix: IntensityMix;
  /**
   * Pushes the last metrics (when --otlp) and releases the OTel provider: how that ended
   * (PushEnd), a line on stderr where it failed or earlier pushes' figures are lost.
   */
  close(): Promise<PushEnd>;
  /**
   * Releases the OTel provider without a last push (a command that never started), after the
   * pushes in flight (if any) within PUSH_TIMEOUT_MS, and tells the lines `run` kept: whether a
   * periodic push got through, whose figures cover no command (Discarded).
   */
  discard(): Promise<Discarded>;
}

export interface SessionOptions {
  options: CommonOptions;
  /** The command line as given (after the command name), whose URLs' credentials are masked. */
  args: readonly string[];
  env: Env;
  /** What the process scope measures: `run`'s command tree; none (NO_PROCESS_CPU) for `monitor`. */
  processCpu: ProcessCpuReader;
  /** The command's share of the GPUs' energy (`run`: nvidia-smi pmon). */
  gpuShares?: GpuShareReader;
  /**
   * Whether what processCpu read so far measures anything (see bindMetrics): until it does,
   * --otlp pushes no process-scope series. Always, when not given.
   */
  processMeasured?: () => boolean;
  /** Sampling interval when neither --interval nor ENERGY_SAMPLE_INTERVAL_MS says. */
  defaultIntervalMs?: number;
  /**
   * Whether a failing --otlp push is told as it happens (monitor), not only by the last push's
   * line at the end (run, whose end is near and whose command's output it would interrupt).
   */
  pushWarnings?: boolean;
  /** Time that goes on in a suspend (tests script it); Linux's boot clock by default. */
  bootClock?: Clock;
  /** How the power sources are chosen, beyond the settings (tests). */
  select?: Pick<SelectSourcesOptions, 'gpuRetryFirstMs'>;
  /** The most delta points --otlp keeps to send again (tests: CARRIED_POINTS_MAX by default). */
  carriedPointsMax?: number;
}

/**
 * The settings with --zone in place of CARBON_ZONE and --source in place of ENERGY_SOURCE, so
 * they are checked by the same rules (kepler without its URL, say), each error naming the
 * option where the option was given.
 */
function loadWithOptions(options: CommonOptions, env: Env): Settings {
  const given: Env = {};
  if (options.zone !== undefined) given.CARBON_ZONE = options.zone;
  if (options.source !== undefined) given.ENERGY_SOURCE = options.source;
  try {
    return loadSettings({ ...env, ...given });
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    throw asOptionError(err, options);
  }
}

/** A SettingsError about a variable an option replaced, in the option's words. */
function asOptionError(err: SettingsError, options: CommonOptions): Error {
  const named = {
    CARBON_ZONE: ['--zone', options.zone],
    ENERGY_SOURCE: ['--source', options.source],
  };
  for (const [variable, [option, value]] of Object.entries(named)) {
    if (value !== undefined && err.variable === variable) {
      return new UsageError(`${option}: ${err.message.slice(variable.length + 2)}`);
    }
  }
  return err;
}

function cliConfig(options: CommonOptions, env: Env, defaultIntervalMs?: number): Settings {
  const config = loadWithOptions(options, env);
  const intervalMs =
    options.intervalMs ??
    (env.ENERGY_SAMPLE_INTERVAL_MS ? config.energy.sampleIntervalMs : defaultIntervalMs) ??
    config.energy.sampleIntervalMs;
  return {
    ...config,
    energy: {
      ...config.energy,
      sampleIntervalMs: intervalMs,
      ...(options.source !== undefined ? { sourceOption: '--source' } : {}),
    },
  };
}

/**
 * Every secret the CLI knows, for its logger to mask on every line (an upstream's error may
 * echo any of them): the settings' (the Electricity Maps key), the --otlp URL's credentials,
 * the OTLP exporter variables' (endpoints' credentials, header tokens) and those of any other
 * URL on the command line (the command's own).
 */
function cliSecrets(o: SessionOptions, config: Settings): string[] {
  return [
    ...secretsOf(config),
    ...urlSecrets(o.options.otlp),
    ...otlpSecretsOf(o.env),
    ...argvSecrets(o.args),
  ];
}

/**
 * Everything a CLI measurement needs, built from the service's own settings (CARBON_ZONE,
 * ELECTRICITY_MAPS_API_KEY, PUE, ENERGY_*) with the command-line options on top. Throws
 * SettingsError for a bad setting, CsvOutputError for an --output it could not append to.
 */
export async function openSession(o: SessionOptions): Promise<Session> {
  if (o.options.output !== undefined) checkAppendable(o.options.output);
  const config = cliConfig(o.options, o.env, o.defaultIntervalMs);
  const verbose = o.options.verbose;
  const secrets = cliSecrets(o, config);
  const logger = stderrLogger({ level: verbose ? 'info' : 'warn', fields: verbose, secrets });
  const redactions = redactionList(secrets);
  const runId = randomUUID();
  // The CSV's timestamp and monitor's lines are local time: say where that is not the zone meant.
  const zoneWarning = unreadZoneWarning(o.env.TZ);
  if (zoneWarning) logger.warn(zoneWarning);
  const misspelt = misspeltVariablesWarning(o.env);
  if (misspelt) logger.warn(misspelt);
  // The OTLP exporter reads its headers and TLS files from the environment itself, and drops a
  // bad one.
  if (o.options.otlp) {
    for (const line of malformedOtelVariables(o.env, {
      sdk: false,
      headers: true,
      resource: true,
    })) {
      logger.warn(line);
    }
    for (const line of otlpTlsFileProblems(o.env, 'METRICS')) logger.warn(line);
  }
  const otlp = o.options.otlp
    ? await otlpPush(
        o.options.otlp,
        o.env,
        {
          // Each run is its own instance: two at once (or one a machine) under one service.name
          // were one series at the Collector's Prometheus exporter, the last push's (its labels
          // are service.name and service.instance.id only). The run id, so that a series is
          // found from a report or a CSV row.
          'service.instance.id': runId,
          'carbonscope.project_name': o.options.projectName,
          'carbonscope.run_id': runId,
        },
        Math.max(config.energy.sampleIntervalMs, 1000),
        o.pushWarnings ? logger : undefined,
        o.carriedPointsMax,
      )
    : undefined;
  const meter = await Carbonscope.create({
    settings: config,
    logger,
    processCpu: o.processCpu,
    ...(o.gpuShares ? { gpuShares: o.gpuShares } : {}),
    ...(o.bootClock ? { bootClock: o.bootClock } : {}),
    ...(o.select ? { select: o.select } : {}),
  });
  // Only --otlp exports anything: the run's figures go out through the same instruments.
  if (otlp) {
    // The version, as register's scope has it: `otel_scope_version` tells which carbonscope made
    // the series.
    bindMetrics(otlp.provider.getMeter('carbonscope', VERSION), meter, {
      ...(o.processMeasured ? { processMeasured: o.processMeasured } : {}),
    });
  }
  const hostCpu = new HostCpuMean();
  let sampledMs = 0;
  let suspendedMs = 0;
  const intensityMix = new IntensityMix();
  const ramUse = new RamUseMean();
  meter.onSample((s) => {
    hostCpu.add(s);
    sampledMs += s.elapsedMs;
    suspendedMs += s.suspendedMs;
    ramUse.add(s.elapsedMs);
    intensityMix.add(s);
  });
  return {
    config,
    logger,
    redact: (text) => redactSecrets(text, redactions),
    meter,
    otlpTarget: otlp?.shown,
    runId,
    sampledMs: () => sampledMs,
    suspendedMs: () => suspendedMs,
    cpuUtilizationPercent: () => hostCpu.percent(),
    ramUse: () => ramUse.mean(),
    intensityMix,
    async close() {
      if (!otlp) return 'none';
      const failure = await finalPush(otlp);
      // The lines `run` kept (a partial success, dropped points), before the end's that sums them.
      otlp.kept.tell(otlp.lines.through(logger));
      const short = shortfalls(otlp);
      if (failure === undefined) {
        otlp.closeGate();
        await otlp.provider.shutdown().catch(() => undefined);
        // A periodic push refused after the end's went out (held, then answered): under delta its
        // points are in no push, where `pushed` alone said all were delivered. Every 400 that
        // came, `run`'s (none told it, one answered while the end waited for it too); `monitor`'s
        // line told its own as it came: counted here again, it read as a second push.
        const { outcome } = otlp;
        outcome.untold = (otlp.reporting ? 0 : outcome.lost) + outcome.afterEnd;
        const lost = lostUntold(outcome);
        // Every push in flight is a periodic one (the end's own was answered): under delta, as
        // one cut, whether its points got through is not known, and no other push has them.
        const unknown = deltaOnly(outcome, outcome.cutAfterEnd, otlp.pushes.count);
        if (lost === 0 && short.length === 0 && unknown === undefined) return 'pushed';
        // One line for the end: `could not deliver` followed by finish's `pushed the metrics`
        // read as two ends, the last as all delivered.
        const parts = [...(lost > 0 ? [lostText(otlp.outcome)] : []), ...short];
        const not = parts.length > 0 ? `, but not ${parts.join(', nor ')}` : '';
        const untold = unknown ? `; ${unknownText(unknown, outcome)}` : '';
        logger.warn(`pushed the metrics to ${otlp.shown}${not}${untold}`);
        return 'told';
      }
      // The reason may quote the URL's user:password or a header's token: the logger masks them.
      // A push that got through has all that was counted to then: under cumulative temporality
      // the totals, under delta what the pushes that failed before it carried with its own, less
      // the shortfalls (the cap's points of an outage under way are within `since`: not counted).
      const dropped = otlp.outcome.delivered
        ? `${droppedText(undefined, otlp.outcome.temporality.value, true)}${untoldText(otlp.outcome)}${short.map((s) => `, and ${s}`).join('')}`
        : "this run's metrics were not delivered";
      // No shutdown, which would wait for the pushes in flight and hold the exit as long again:
      // the reader runs on until the process exits, gated, and its pushes' lines end here.
      otlp.closeGate();
      otlp.lines.end();
      // A last push with no answer is still in flight itself (it went out once the end's 3 s had
      // begun, and the exporter cuts it 3 s from its own start): the end line tells it, and told
      // here too it read as a second push, `not told` against the end's `not delivered`.
      const flying = otlp.pushes.count - (otlp.end.inFlight ? 1 : 0);
      if (flying > 0) logger.warn(inFlightText(flying, otlp.shown));
      logger.error(`could not push metrics to ${otlp.shown}: ${failure}; ${dropped}`);
      return 'failed';
    },
    async discard() {
      if (!otlp) return 'none';
      // Gated, the reader's shutdown flush sends nothing; it waits for every push in flight,
      // whose fate (taken, partly rejected) the run's lines then say, bounded as the last push is.
      otlp.closeGate();
      const shut = otlp.provider.shutdown().catch(() => undefined);
      const settled = await settlesWithin(Promise.all([shut, otlp.pushes.none()]), PUSH_TIMEOUT_MS);
      otlp.kept.tell(otlp.lines.through(logger));
      // A push still in flight is answered after `run`'s last line, which says it may get through.
      otlp.lines.end();
      if (otlp.outcome.delivered) return 'pushed';
      // The exporter cuts a push at PUSH_TIMEOUT_MS too, from its start: one held that long
      // fails as timed out, and may have reached the collector all the same, whatever the
      // pushes after it were answered.
      return settled && !otlp.pushes.cut ? 'none' : 'unanswered';
    },
  };
}

/**
 * Starts the meter and resolves once its baseline is set (not after the first sample, a whole
 * interval later): whatever starts after this is inside the measured window.
 */
export function startMeter(meter: Carbonscope): Promise<void> {
  return meter.start();
}
