import { shownValue } from '../../shown-value.js';

/**
 * The longest a probe may wait for a child's first output. setTimeout makes anything past
 * 2^31 - 1 ms, like NaN or a negative, 1 ms: a probe that gave up at once on a GPU that answers.
 */
export const MAX_PROBE_TIMEOUT_MS = 600_000;

/** Throws a RangeError for a given probe timeout that is no wait of 1 ms to 10 minutes. */
export function checkProbeTimeout(value: unknown): void {
  if (value === undefined) return;
  if (typeof value === 'number' && value >= 1 && value <= MAX_PROBE_TIMEOUT_MS) return;
  throw new RangeError(
    `probeTimeoutMs: expected a number of ms from 1 to ${MAX_PROBE_TIMEOUT_MS}, got ${shownValue(value)}`,
  );
}

/** The probe's wait: the one given (checked), else 3 intervals + 2 s. */
export function probeTimeoutOf(given: number | undefined, intervalMs: number): number {
  checkProbeTimeout(given);
  return given ?? intervalMs * 3 + 2000;
}
