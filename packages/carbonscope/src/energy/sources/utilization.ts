import type { HostCpuDelta } from './source.js';

/** Host CPU busy fraction over one tick's CPU-time delta, 0..1 (0 when nothing elapsed). */
export function hostUtilization(delta: HostCpuDelta): number {
  return delta.totalSeconds > 0 ? clamp01(delta.activeSeconds / delta.totalSeconds) : 0;
}

export function clamp01(x: number): number {
  if (!(x > 0)) return 0; // also NaN
  return Math.min(x, 1);
}
