import { clamp01, type HostCpuDelta } from './sources/index.js';

export type AttributionMode = 'dynamic' | 'proportional';

/**
 * The fraction of the host's (CPU-side) energy that belongs to the measured process over one
 * sample interval.
 *
 * - `proportional` (Scaphandre): the process gets its share of the host's busy CPU time of ALL
 *   the energy, idle power included. Every joule is handed to some busy process.
 * - `dynamic` (Kepler): host energy is split into idle and active by the host's active CPU
 *   fraction; the process gets its share of busy CPU time of the ACTIVE part only. Idle power is
 *   paid whether the service runs or not, so it is never attributed. This makes a process's
 *   figure independent of how idle its neighbours are, which is why it is the default.
 *
 * `/proc/stat` counts in 10 ms jiffies while `process.cpuUsage()` counts microseconds, so over a
 * short interval the process can appear to use more than the host's busy time: shares are
 * clamped to [0, 1].
 */
export function processShare(
  mode: AttributionMode,
  processCpuSeconds: number,
  host: HostCpuDelta,
): number {
  if (!(processCpuSeconds > 0) || !(host.totalSeconds > 0)) return 0;
  // The process was busy, so the host was at least that busy even if its jiffies lag behind.
  const busy = Math.max(host.activeSeconds, processCpuSeconds);
  const ofBusy = clamp01(processCpuSeconds / busy);
  if (mode === 'proportional') return ofBusy;
  return ofBusy * clamp01(busy / host.totalSeconds);
}
