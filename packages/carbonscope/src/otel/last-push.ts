import { settlesWithin } from '../deadline.js';
import { type Logger, redactionList, redactSecrets } from '../log.js';
import { type Env, otlpSecretsOf } from '../settings.js';
import { urlSecrets, withoutCredentials } from '../url-credentials.js';
import type { ReportingExporter } from './binding/index.js';
import {
  alignedDeltaStarts,
  countsOf,
  droppedText,
  type ExportCounts,
  SeenTemporality,
} from './binding/index.js';
import { heldForRetryAfter } from './retry-after-hold.js';
import type { TlsVariables } from './sdk/index.js';
import {
  EXPORT_FAILED,
  failureOf,
  lastPushAgents,
  otlpMetricExporter,
  otlpMetricsEndpoint,
  otlpTlsVariables,
  type PushMetricExporter,
  stopWaiting,
} from './sdk/index.js';

/**
 * How long the push at the stop may take, retries included, where the last push got through.
 * It is the process's end (a script's, or a SIGTERM's) that waits: the exporter's own timeout
 * (10 s, most of them retrying) would make a short script end 8 to 10 s late with its collector
 * down. A collector that is up answers far sooner: in milliseconds on loopback or beside the
 * pod, a few hundred over TLS across a region. 2 s covers that twice over, and gives a push the
 * collector failed its first retry (the exporter's backoff: 1 s ± 20 %); a refused connection
 * is not retried (lastPushAgents).
 */
export const LAST_PUSH_DEADLINE_MS = 2_000;

/**
 * Where the last push failed (FailureRun: the collector is down now, as far as is known): one
 * try, long enough for a collector that is back (a TLS handshake), too short for a retry.
 */
export const LAST_PUSH_OUTAGE_DEADLINE_MS = 500;

/** Past the deadline, for the exporter's own timeout to land with its reason first. */
const GRACE_MS = 250;

/** The push at the stop, bounded by a deadline of its own. */
export interface LastPush {
  /** For the periodic reader: the periodic exporter, and the last push's once the stop began. */
  readonly exporter: PushMetricExporter;
  /**
   * Runs `stop` (the provider's shutdown, whose reader pushes once more) with the last push
   * bounded; past the deadline (the last push's own, where it began late) it resolves, nothing
   * more is pushed, and one warning says what was dropped. A push that fails within it is that
   * one line too.
   */
  within(stop: () => Promise<void>): Promise<void>;
}

/**
 * The last push of `periodic`'s reader, made by an exporter of its own: the OTLP exporter's
 * timeout is fixed when it is made, and the periodic one's (up to 10 min) is no bound for an
 * exit. `make(ms)` makes one that gives up, retries included, within `ms`; the deadline is
 * LAST_PUSH_DEADLINE_MS, or LAST_PUSH_OUTAGE_DEADLINE_MS after a failed push, and never over
 * `timeoutMs`, the periodic exporter's (the user's word on how long a push may take). Both are
 * made now, beside the periodic one: an exporter reads its endpoint and headers from the
 * environment as it is when made, which the application may have changed by its end.
 *
 * What does not get through is said in one line, with how much: under cumulative temporality
 * (OTLP's default) the collector lacks what was counted since the last push that got through,
 * under delta what was since the push before, or since the last that got through where failed
 * pushes' delta points are carried (droppedText). A periodic push that only waits out its
 * retry's backoff when the stop comes (stopWaiting: no request of it open) fails at once, so the
 * last push goes now with what it carried (cumulative: the totals; delta: carried again where
 * failed pushes' points are), and its retry is never sent, which would count a delta point twice.
 * A push with its request in flight is the SDK's to await: where it outlasts the deadline the
 * line is told then, but its socket keeps the process up to its own timeout; where it ends
 * sooner (or goes back to waiting, and fails then), the last push behind it has its deadline
 * from its own start (the stop then waits twice the deadline at most).
 */
export async function lastPushWithin(
  periodic: ReportingExporter,
  make: (timeoutMs: number) => Promise<PushMetricExporter>,
  target: string,
  logger: Logger,
  timeoutMs: number,
  others: readonly string[] = [],
  tls?: TlsVariables,
): Promise<LastPush> {
  const shown = withoutCredentials(target);
  // In each form a reason may write them: escaped in an echoed JSON body, percent-encoded; the
  // headers' tokens (`others`) too, which a refusing proxy's body may echo (failureOf).
  const secrets = redactionList([...urlSecrets(target), ...others]);
  const steadyMs = Math.min(LAST_PUSH_DEADLINE_MS, timeoutMs);
  const outageMs = Math.min(LAST_PUSH_OUTAGE_DEADLINE_MS, timeoutMs);
  const [steady, outage] = await Promise.all([make(steadyMs), make(outageMs)]);
  let last: PushMetricExporter | undefined;
  let over = false;
  /** When the last push began (performance.now()); undefined until it does. */
  let pushedAt: number | undefined;
  let told = false;
  let deadlineMs = steadyMs;
  const temporality = new SeenTemporality();
  // The periodic pushes wait for a collector's Retry-After; the last one is tried whatever.
  const held = heldForRetryAfter(periodic);

  const tell = (reason: string, counts: ExportCounts | undefined) => {
    if (told) return;
    told = true;
    const why = redactSecrets(reason, secrets);
    logger.warn(
      `could not push the last metrics to ${shown} within ${deadlineMs / 1000} s: ${why}; ${droppedText(counts, temporality.value, periodic.carries)}`,
    );
  };

  const exporter: PushMetricExporter = {
    export: (metrics, done) => {
      temporality.see(metrics);
      if (!last) {
        held.export(metrics, done);
        return;
      }
      if (over) {
        done({ code: EXPORT_FAILED, error: new Error('the last push is over') });
        return;
      }
      const counts = countsOf(metrics);
      pushedAt = performance.now();
      last.export(metrics, (result) => {
        const failure = failureOf(result, secrets, tls);
        if (failure !== undefined) tell(failure, counts);
        done(result);
      });
    },
    forceFlush: async () => {
      await Promise.all([periodic.forceFlush(), last?.forceFlush()]);
    },
    shutdown: async () => {
      await Promise.all([periodic.shutdown(), steady.shutdown(), outage.shutdown()]);
    },
    selectAggregationTemporality: periodic.selectAggregationTemporality?.bind(periodic),
    selectAggregation: periodic.selectAggregation?.bind(periodic),
  };

  return {
    exporter,
    within: async (stop) => {
      // A periodic push under way that fails now has this last one behind it, which tells.
      periodic.ending(false);
      // One that only waits for its retry fails now (carried, under delta): the last one goes.
      stopWaiting(periodic);
      deadlineMs = periodic.lastFailed ? outageMs : steadyMs;
      last = periodic.lastFailed ? outage : steady;
      const stopping = stop();
      let settled = await settlesWithin(stopping, deadlineMs + GRACE_MS);
      // A last push that began late, behind a periodic one under way, has its deadline from its
      // start, as its exporter does: cut at the stop's, one answered in time was told dropped.
      if (!settled && pushedAt !== undefined) {
        const left = pushedAt + deadlineMs + GRACE_MS - performance.now();
        settled = await settlesWithin(stopping, left);
      }
      over = true;
      if (settled) return;
      tell(
        pushedAt === undefined ? 'the push before it was still under way' : 'no answer',
        undefined,
      );
    },
  };
}

/**
 * lastPushWithin for `periodic`, an OTLP exporter made from `env` (otlpMetricExporter, `what`
 * naming the setting that asked for it): the last push's exporters take a refused connection as
 * final (lastPushAgents). `register`'s own provider and the service share it, so that a service
 * ends as fast as `register` does with its collector down. Its exporter starts each delta point
 * where its series' last one ended (alignedDeltaStarts), the last push's too.
 */
export async function otlpLastPush(
  env: Env,
  what: string,
  periodic: ReportingExporter,
  logger: Logger,
  timeoutMs: number,
): Promise<LastPush> {
  const make = (ms: number) =>
    otlpMetricExporter(env, what, undefined, ms, lastPushAgents(env, ms));
  const target = otlpMetricsEndpoint(env);
  const tls = otlpTlsVariables(env, 'METRICS');
  const secrets = otlpSecretsOf(env);
  const last = await lastPushWithin(periodic, make, target, logger, timeoutMs, secrets, tls);
  // Around both the periodic pushes and the last: its points go on from theirs.
  return { ...last, exporter: alignedDeltaStarts(last.exporter) };
}
