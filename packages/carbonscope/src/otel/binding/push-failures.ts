import { elapsedText } from '../../elapsed-text.js';
import { FailureRun, FLAP_WINDOW_MS, spellText, tallyText } from '../../failure-run.js';
import { type Logger, redactionList, redactSecrets } from '../../log.js';
import { type Env, otlpSecretsOf } from '../../settings.js';
import { urlSecrets, withoutCredentials } from '../../url-credentials.js';
import type { TlsVariables } from '../sdk/index.js';
import {
  failureOf,
  otlpMetricsEndpoint,
  otlpTlsVariables,
  type PartialSuccess,
  type PushMetricExporter,
  partialSuccessOf,
  shownReason,
  waitingPassedOn,
} from '../sdk/index.js';
import { CARRIED_POINTS_MAX, carryingFailedDeltas, refusedAsMalformed } from './carried-deltas.js';
import {
  countsOf,
  droppedText,
  type ExportCounts,
  retryText,
  SeenTemporality,
} from './dropped-metrics.js';

export { FLAP_WINDOW_MS, REASON_REPEAT_MS } from '../../failure-run.js';

/** An exporter that tells its failures, and says whether its last push failed. */
export interface ReportingExporter extends PushMetricExporter {
  /** The collector is down as far as is known: the last push failed (FailureRun.lastFailed). */
  readonly lastFailed: boolean;
  /**
   * The process's end began: no periodic export comes after the push under way (if any) and
   * the last one, so no failure is told as one the next export tries again. The push under way
   * that fails is not told under cumulative temporality (the last push comes behind it with
   * the totals: the reader awaits it first), and is under delta, as any failure while running
   * (what it carried is lost); the last push that fails is told, once, as what it dropped where
   * `tellsLast`, and not at all where the caller says it in its own words (lastPushWithin, the
   * CLI's last push).
   */
  ending(tellsLast: boolean): void;
  /**
   * Whether a failed push's delta points are sent again: true once carryingFailedPushes put
   * carryingFailedDeltas around the reader's exporter with it, and only then.
   */
  readonly carries: boolean;
}

/**
 * A line no later line takes back: a collector's partial success, or delta points the carrying
 * dropped (`points`: those of the cap no earlier line told, so their sum is all the cap dropped;
 * 0 where a push refused as malformed took them, which counts as lost with all it carried).
 */
export type PushNote = { kind: 'partial' } | { kind: 'dropped'; points: number };

/**
 * Where reportingFailures writes its PushNote lines: its logger's warn by default. A caller
 * whose logger shows nothing while it runs (`run`) keeps them to tell at its end.
 */
export type PushNotes = (line: string, note: PushNote) => void;

/** What reportingFailures takes beside its exporter, target and logger: each has a default. */
export interface ReportingOptions {
  /** The clock its runs of failures are timed by, in ms: performance.now by default. */
  readonly now?: () => number;
  /** Secrets beside the URL's own that no line shows: the headers' tokens. */
  readonly secrets?: readonly string[];
  /** The exporter's own TLS variables, one named where a handshake fails. */
  readonly tls?: TlsVariables;
  /** Where its PushNote lines go: the logger's warn by default. */
  readonly notes?: PushNotes;
}

/** What carryingFailedPushes needs of a reporting exporter: its words, and its flag to set. */
interface Carried {
  readonly warn: (text: string, points: number) => void;
  carry(): void;
}

/**
 * Those reportingFailures made, and no other: the flag is set by the wrapping alone, so a line
 * never says carried where nothing carries (stop 80 had the caller pass both, which could part).
 */
const carriable = new WeakMap<ReportingExporter, Carried>();

/**
 * How many distinct reasons of a collector's partial success are told, each once: past them a
 * collector whose message varies (a count or a series in it) adds no line.
 */
export const PARTIAL_REASONS_MAX = 16;

/** Where the end of the process stands: whether the last push is told here, and was. */
interface End {
  readonly tellsLast: boolean;
  told: boolean;
}

/**
 * The exporter, saying in one warning line when pushes start to fail: the SDK hands the error to
 * its global handler, silent unless the application set a diag logger, so a wrong endpoint or a
 * refused key would lose every figure without a word. One line per run of failures, and one when a
 * push gets through again, at the same level (warn): the stderr logger shows no info by default,
 * and the warning was then the last word. A reason that changes within the run (a timeout, then a
 * refusal, by turns) is told again only after REASON_REPEAT_MS, so no interval adds a line. A
 * collector that takes some pushes and refuses others (failures within FLAP_WINDOW_MS of a
 * recovery) is told as flapping, with counts, at most once a window, and steady again once a window
 * passed with none failing (FailureRun). Under delta temporality a failed push's figures are lost,
 * not carried by the next push, and the line says so (SeenTemporality); unless it `carries`
 * (carryingFailedPushes put the reader's exporter around it): the line then says the next
 * export carries them, and lost only for a push refused as malformed (HTTP 400), not sent again;
 * each of the two told once a run where both come. Once the process's end began (`ending`), a
 * failure says what is dropped instead, or nothing (see ReportingExporter.ending). A push the
 * collector took but partly rejected (an OTLP partial success) is one line for each reason, up
 * to PARTIAL_REASONS_MAX. The URL's user, password and secret parameters' values
 * (url-credentials.ts) are never shown, nor `options.secrets` (the headers' tokens), which a
 * refusing proxy may echo in the reason its body gives (failureOf). A failed handshake names the
 * variable of `options.tls` that puts it right (the exporter's own: otlpTlsVariables). The
 * partial successes' lines and those of what the carrying dropped go to `options.notes`.
 */
export function reportingFailures(
  exporter: PushMetricExporter,
  target: string,
  logger: Logger,
  options: ReportingOptions = {},
): ReportingExporter {
  const { now = () => performance.now(), tls, notes = (line) => logger.warn(line) } = options;
  const shown = withoutCredentials(target);
  // In each form a reason may write them: escaped in an echoed JSON body, percent-encoded.
  const secrets = redactionList([...urlSecrets(target), ...(options.secrets ?? [])]);
  const run = new FailureRun();
  const temporality = new SeenTemporality();
  let end: End | undefined;
  let carries = false;
  /** Whether this run's lines told a push's points lost as malformed (true), carried (false). */
  const fatesTold = new Set<boolean>();

  const partialReasons = new Set<string>();
  /** A push taken but partly rejected: the OTel exporter tells only its diag logger. */
  const partly = ({ rejected, message }: PartialSuccess) => {
    const key = message.slice(0, 200);
    if (partialReasons.has(key) || partialReasons.size >= PARTIAL_REASONS_MAX) return;
    partialReasons.add(key);
    const why = message === '' ? 'no reason given' : shownReason(message, secrets);
    notes(
      `the collector at ${shown} took a push but rejected ${rejected} of its data points: ${why} (told once for each reason)`,
      { kind: 'partial' },
    );
  };

  const succeeded = () => {
    const news = run.succeeded(now());
    if (news === 'recovered') fatesTold.clear();
    if (news === 'recovered') logger.warn(`metrics pushed to ${shown} again`);
    if (news === 'steady') {
      logger.warn(
        `metrics pushed to ${shown} steadily again, none failed for ${elapsedText(FLAP_WINDOW_MS)} (${spellText(run.tally, 'pushes')})`,
      );
    }
  };

  const failedWhileRunning = (failure: string, malformed: boolean) => {
    const news = run.failed(failure, now());
    // Where failed pushes are carried, a 400's are lost and a 503's are not: each fate is told
    // once a run, however soon, else a 400's line was the last word on the 503s behind it.
    const newFate = carries && temporality.value !== 'cumulative' && !fatesTold.has(malformed);
    if (news === undefined && !newFate) return;
    fatesTold.add(malformed);
    const reason = redactSecrets(failure, secrets);
    const flapping = news === 'flapping' ? ` on and off, ${tallyText(run.tally, 'pushes')}` : '';
    logger.warn(
      `could not push metrics to ${shown}${flapping}: ${reason}; ${retryText(temporality.value, carries, malformed)}`,
    );
  };

  /**
   * A failure at the end, of the last push (`last`: begun after the end began, with its counts
   * where this tells it) or of the push under way.
   */
  const failedAtEnd = (
    failure: string,
    malformed: boolean,
    last: { counts?: ExportCounts } | undefined,
  ) => {
    // Under delta the last push does not carry what the push under way did, unless `carries`.
    const carried = carries && !malformed;
    if (last === undefined && temporality.value !== 'cumulative' && !carried) {
      failedWhileRunning(failure, malformed);
      return;
    }
    run.failed(failure, now());
    if (!end?.tellsLast || end.told || last?.counts === undefined) return;
    end.told = true;
    const reason = redactSecrets(failure, secrets);
    const dropped = droppedText(last.counts, temporality.value, carries);
    logger.warn(`could not push the last metrics to ${shown}: ${reason}; ${dropped}`);
  };

  const reporting: ReportingExporter = {
    export: (metrics, done) => {
      const begunAtEnd = end !== undefined;
      temporality.see(metrics);
      // Counted before the push: only for the line that says what a last push dropped.
      const counts = end?.tellsLast ? countsOf(metrics) : undefined;
      exporter.export(metrics, (result) => {
        const failure = failureOf(result, secrets, tls);
        const malformed = refusedAsMalformed(result);
        const partial = partialSuccessOf(result);
        if (partial !== undefined) partly(partial);
        if (failure === undefined) succeeded();
        else if (end === undefined) failedWhileRunning(failure, malformed);
        else failedAtEnd(failure, malformed, begunAtEnd ? { counts } : undefined);
        done(result);
      });
    },
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    // The reader takes the exporter's choices (OTLP's temporality preference) when it has them.
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
    get lastFailed() {
      return run.lastFailed;
    },
    ending(tellsLast) {
      end ??= { tellsLast, told: false };
    },
    get carries() {
      return carries;
    },
  };
  // lastPushWithin stops the waiting of the exporter it reports on through it.
  waitingPassedOn(reporting, exporter);
  const warn = (text: string, points: number) =>
    notes(`metrics for ${shown}: ${text}`, { kind: 'dropped', points });
  carriable.set(reporting, {
    warn,
    carry: () => {
      carries = true;
    },
  });
  return reporting;
}

/**
 * `exporter` (the reader's: outside `reporting`, and outside whatever counts what was pushed, so
 * a push that carries a failed one's points counts them) with a failed push's delta points sent
 * again with the next export, the last one included (carryingFailedDeltas), and `reporting`'s
 * lines saying so: the one way to have either, so they cannot part. What the cap drops is told
 * in `reporting`'s words (`metrics for …: dropped …`). `reporting` must be one reportingFailures
 * or reportingPushFailures made.
 */
export function carryingFailedPushes(
  exporter: PushMetricExporter,
  reporting: ReportingExporter,
  maxPoints = CARRIED_POINTS_MAX,
): PushMetricExporter {
  const carried = carriable.get(reporting);
  if (carried === undefined) {
    throw new TypeError('carryingFailedPushes: reporting is not one that reportingFailures made');
  }
  carried.carry();
  return carryingFailedDeltas(exporter, carried.warn, maxPoints);
}

/**
 * reportingFailures for an OTLP exporter made from the standard variables (`register`, an
 * application's own telemetry): the target is the one the exporter pushes to.
 */
export function reportingPushFailures(
  exporter: PushMetricExporter,
  env: Env,
  logger: Logger,
): ReportingExporter {
  const target = otlpMetricsEndpoint(env);
  const tls = otlpTlsVariables(env, 'METRICS');
  return reportingFailures(exporter, target, logger, { secrets: otlpSecretsOf(env), tls });
}
