import { shownValue } from '../shown-value.js';

/**
 * A Software Carbon Intensity score with its parts (GSF SCI, ISO/IEC 21031:2024):
 * SCI = (E × I + M) / R, gCO2e per functional unit.
 */
export interface SciScore {
  /** E × I: operational emissions (energy × PUE × grid intensity), gCO2e. */
  readonly operationalGrams: number;
  /** M: embodied emissions, gCO2e (an estimate). */
  readonly embodiedGrams: number;
  /** R: the functional units the emissions are for (requests, inferences, images, runs). */
  readonly units: number;
  /** (E × I + M) / R. */
  readonly gramsPerUnit: number;
  /** True when a part is a model's figure: M always is (unless 0), E × I when its energy is. */
  readonly estimated: boolean;
}

/** What an SCI is made of: a footprint's emissions, or a meter's totals over a window. */
export interface SciParts {
  readonly grams: number;
  readonly embodiedGrams: number;
  readonly estimated: boolean;
}

/**
 * The SCI of `parts` for `units` functional units (1 by default: one operation, one run).
 * Throws RangeError when R is not a positive finite number: there is no score per nothing.
 */
export function sciOf(parts: SciParts, units = 1): SciScore {
  checkUnits(units);
  // Below 0 only by a hair, as a difference of two totals can be; NaN is no figure at all.
  const operational = Math.max(checkedGrams('grams', parts.grams), 0);
  const embodied = Math.max(checkedGrams('embodiedGrams', parts.embodiedGrams), 0);
  return {
    operationalGrams: operational,
    embodiedGrams: embodied,
    units,
    gramsPerUnit: (operational + embodied) / units,
    estimated: parts.estimated || embodied > 0,
  };
}

/** A part of the score, unless it is not a finite number: NaN read as 0, Infinity stayed. */
function checkedGrams(part: string, grams: number): number {
  if (typeof grams === 'number' && Number.isFinite(grams)) return grams;
  throw new RangeError(`${part}: expected a finite number of grams, got ${shownValue(grams)}`);
}

/** Throws RangeError unless R is a positive finite number (a string is not one: '2' > 0). */
export function checkUnits(units: number): void {
  if (typeof units !== 'number' || !(units > 0) || units === Number.POSITIVE_INFINITY) {
    // Quoted when a string: "got 2" for '2' read as if 2 were refused.
    throw new RangeError(
      `R (functional units) must be a positive number, got ${shownValue(units)}`,
    );
  }
}
