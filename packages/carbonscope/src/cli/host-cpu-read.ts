import type { EnergySample } from '../energy/index.js';

/**
 * The host's CPU busy share over the time its CPU time was read, weighted by that time
 * (CodeCarbon's cpu_utilization_percent): each sample's hostCpuReadMs, which a stand-in gives
 * none of (monitor's is 0, as it measures no process; `run`'s the command's own CPU time, a
 * floor), and a read after a gap the gap's too.
 */
export class HostCpuMean {
  private busyMs = 0;
  private readMs = 0;

  add(sample: EnergySample): void {
    this.busyMs += sample.hostUtilization * sample.hostCpuReadMs;
    this.readMs += sample.hostCpuReadMs;
  }

  /** 0..100; null before any interval whose CPU time was read. */
  percent(): number | null {
    return this.readMs > 0 ? (this.busyMs / this.readMs) * 100 : null;
  }
}
