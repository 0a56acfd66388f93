import type { EnergySample } from '../energy/index.js';

/**
 * Whether each sample's interval had the host's CPU time read: its count of stand-ins
 * (HostCpuStandIns, since the start) grew where it was not. Call it with every sample, in order.
 */
export function hostCpuReadEach(): (sample: EnergySample) => boolean {
  let standIns = 0;
  return (sample) => {
    const now = sample.hostCpuStandIns?.intervals ?? 0;
    const read = now === standIns;
    standIns = now;
    return read;
  };
}

/**
 * The host's CPU busy share over the intervals whose CPU time was read, weighted by their
 * length (CodeCarbon's cpu_utilization_percent). A stand-in is no reading: monitor's is 0 (it
 * measures no process), `run`'s the command's own CPU time, a floor.
 */
export class HostCpuMean {
  private readonly read = hostCpuReadEach();
  private busyMs = 0;
  private readMs = 0;

  add(sample: EnergySample): void {
    if (!this.read(sample)) return;
    this.busyMs += sample.hostUtilization * sample.elapsedMs;
    this.readMs += sample.elapsedMs;
  }

  /** 0..100; null before any interval whose CPU time was read. */
  percent(): number | null {
    return this.readMs > 0 ? (this.busyMs / this.readMs) * 100 : null;
  }
}
