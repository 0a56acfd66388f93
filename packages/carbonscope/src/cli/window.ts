import { performance } from 'node:perf_hooks';
import { bootClock } from '../clocks.js';
import { buildReport, type Report, type ReportInput } from './report.js';
import type { Session } from './session.js';

/** What the command adds to its report; the window and the meter give the rest. */
export type CommandReportInput = Omit<
  ReportInput,
  | 'runId'
  | 'startedAt'
  | 'endedAt'
  | 'durationSeconds'
  | 'snapshot'
  | 'cpuUtilizationPercent'
  | 'gpus'
  | 'pricedBy'
>;

/** The measured time of a `run` or `monitor`, from the meter's baseline to its last sample. */
export interface MeasuredWindow {
  /**
   * Ends the window, stops the meter and folds its final snapshot into the report, with what
   * `afterStop` gives then: what the meter's last sample can still change (the GPU share's
   * outcome), read after it.
   */
  close(input: CommandReportInput, afterStop?: () => Partial<CommandReportInput>): Promise<Report>;
}

/** The clocks of a window: epoch ms for its ends, monotonic ms for its duration. */
export interface WindowClocks {
  wall: () => number;
  monotonic: () => number;
  /**
   * Ms since boot, suspended time included (Linux's /proc/uptime): the time that passed, which
   * a step back of the wall clock is told against. None where the system has none, or a test
   * scripts the others alone.
   */
  boot?: () => number;
}

/** How much shorter than the time that passed its wall-clock ends may be before it steps. */
const STEP_TOLERANCE_MS = 1000;

const SYSTEM_CLOCKS: WindowClocks = {
  wall: Date.now,
  monotonic: () => performance.now(),
  ...(bootClock ? { boot: bootClock } : {}),
};

/** Opens the window now: call it once the meter's baseline is set (after startMeter). */
export function openWindow(session: Session, clocks: WindowClocks = SYSTEM_CLOCKS): MeasuredWindow {
  const startMs = clocks.wall();
  const t0 = clocks.monotonic();
  const boot0 = clocks.boot?.();
  return {
    async close(input, afterStop) {
      const durationMs = clocks.monotonic() - t0;
      const endMs = clocks.wall();
      const boot1 = clocks.boot?.();
      const endedAt = new Date(endMs);
      const passedMs = boot0 === undefined || boot1 === undefined ? undefined : boot1 - boot0;
      const startedAt = new Date(windowStartMs(startMs, endMs, durationMs, passedMs));
      await session.meter.stop();
      // The energy is over the meter's samples, from its baseline to its last: the time to divide
      // it by. The window's own reads come after the one and before the other, 10-17 ms inside
      // under load, and a steady GPU's 77.36 W read 78.0 W over 2 s.
      const sampledMs = session.sampledMs();
      // A suspend is in the span too: the joules of a counter read across it include the time
      // asleep, which the monotonic clock leaves out (1,800 J of an hour asleep over 10 s awake
      // read 180 W). A process asleep spent nothing: the same span is its average's too.
      const spanMs = sampledMs > 0 ? sampledMs + session.suspendedMs() : durationMs;
      const durationSeconds = spanMs / 1000;
      const { gpus } = session.meter.meter.sources;
      return buildReport({
        ...input,
        ...afterStop?.(),
        runId: session.runId,
        startedAt,
        endedAt,
        durationSeconds,
        snapshot: session.meter.snapshot(),
        cpuUtilizationPercent: session.cpuUtilizationPercent(),
        pricedBy: session.intensityMix,
        gpus: gpus.flatMap((source) => source.devices?.() ?? []),
      });
    },
  };
}

/**
 * Where the window began, on the wall clock as it reads at the end. A clock that read less than
 * the time that passed was stepped back while it ran (NTP, `date -s`): the clock now is taken as
 * the right one, and the start as the end less that time. The time that passed is the boot
 * clock's where there is one (a suspend included: told against the monotonic duration, an hour
 * back across a 2 h suspend went unseen, and the start read stood an hour late), else
 * `durationMs`. Within a second of it the readings stand (Date.now() counts whole ms,
 * /proc/uptime 10 ms). A clock that went on further is kept: a VM paused with its host asleep
 * (Docker Desktop, WSL), whose boot clock stands still too, and a clock set forward look alike,
 * and the first is the commoner.
 */
function windowStartMs(
  startMs: number,
  endMs: number,
  durationMs: number,
  passedMs: number | undefined,
): number {
  const passed = passedMs !== undefined && Number.isFinite(passedMs) ? passedMs : durationMs;
  const steppedBack = endMs - startMs < Math.max(0, passed - STEP_TOLERANCE_MS);
  return steppedBack ? endMs - passed : startMs;
}
