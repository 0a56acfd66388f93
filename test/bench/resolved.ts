/**
 * A budget checked beside a noise floor measured the same way in the same run (two identical
 * contenders). A figure inside a noise larger than the budget shows nothing either way, so it
 * is not a pass: on this machine two identical Express servers once read 39 µs apart, and
 * carbonscope's +1.4 µs beside them had "passed".
 */
export interface Resolved {
  ok: boolean;
  /**
   * Whether the figure says anything: the noise floor (if measured) within the budget's margin,
   * and the figure not beyond the budget on the side nothing real reaches.
   */
  resolved: boolean;
}

/**
 * CPU added per request (µs) against `budget`, with the floor's "added" as `noise`. A figure
 * below −budget is noise too (nothing measured makes a service cheaper), so it does not pass.
 */
export function addedWithin(added: number, budget: number, noise?: number): Resolved {
  const resolved = (noise === undefined || Math.abs(noise) <= budget) && added >= -budget;
  return { ok: resolved && added <= budget, resolved };
}

/**
 * A throughput ratio against its least (`budget`, e.g. 0.95), with the floor's ratio as
 * `noise`: resolved while the floor, and the ratio above 1, stray from 1 by no more than the
 * budget allows.
 */
export function ratioWithin(ratio: number, budget: number, noise?: number): Resolved {
  const margin = 1 - budget;
  const resolved = (noise === undefined || Math.abs(noise - 1) <= margin) && ratio <= 1 + margin;
  return { ok: resolved && ratio >= budget, resolved };
}
