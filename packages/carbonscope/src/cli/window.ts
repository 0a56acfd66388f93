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

/** The measured time of a `run` or `monitor`, from the meter's baseline to the end. */
export interface MeasuredWindow {
  /**
   * Ends the window, stops the meter and folds its final snapshot into the report, with what
   * `afterStop` gives then: what the meter's last sample can still change (the GPU share's
   * outcome), read after it.
   */
  close(input: CommandReportInput, afterStop?: () => Partial<CommandReportInput>): Promise<Report>;
}

/** Opens the window now: call it once the meter's baseline is set (after startMeter). */
export function openWindow(session: Session): MeasuredWindow {
  const startedAt = new Date();
  const t0 = performance.now();
  return {
    async close(input, afterStop) {
      const durationSeconds = (performance.now() - t0) / 1000;
      const endedAt = new Date();
      await session.meter.stop();
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
