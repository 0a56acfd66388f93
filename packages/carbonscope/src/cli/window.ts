import { performance } from 'node:perf_hooks';
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
}

/** How much shorter than the run its wall-clock ends may be before the clock is taken to step. */
const STEP_TOLERANCE_MS = 1000;

const SYSTEM_CLOCKS: WindowClocks = { wall: Date.now, monotonic: () => performance.now() };

/** Opens the window now: call it once the meter's baseline is set (after startMeter). */
export function openWindow(session: Session, clocks: WindowClocks = SYSTEM_CLOCKS): MeasuredWindow {
  const startMs = clocks.wall();
  const t0 = clocks.monotonic();
  return {
    async close(input, afterStop) {
      const durationMs = clocks.monotonic() - t0;
      const endMs = clocks.wall();
      const endedAt = new Date(endMs);
      // A wall clock stepped back while it ran (NTP) would end the run before it began: the
      // clock now is taken as the right one, and the start as the end less the duration. One
      // that went on further is kept: a suspend, which the monotonic clock does not count,
      // looks alike.
      // Within a second of the duration the two readings stand: Date.now() counts whole ms.
      const stepped = endMs - startMs < Math.max(0, durationMs - STEP_TOLERANCE_MS);
      const startedAt = new Date(stepped ? endMs - durationMs : startMs);
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
