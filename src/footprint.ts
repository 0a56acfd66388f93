import { type OperationFootprint, type SciParts, type SciScore, sciOf } from 'carbonscope';
import type { Logger } from './logger.js';

/** An SCI whose parts were no figures (a NaN, an Infinity): each figure unknown, null in JSON. */
export interface UnknownSci {
  readonly operationalGrams: null;
  readonly embodiedGrams: null;
  readonly units: number;
  readonly gramsPerUnit: null;
  readonly estimated: true;
}

/** What an answer shows of an SCI: the score, or that it is unknown. */
export type ShownSci = SciScore | UnknownSci;

type WarnUnknown = (message: string) => void;

const UNKNOWN_SCI = 'CARBONSCOPE_SCI_UNKNOWN';

/** Until an app is created (the classifier tested alone): a process warning, on stderr. */
const processWarning: WarnUnknown = (message) =>
  process.emitWarning(message, { code: UNKNOWN_SCI });

let warnUnknown: WarnUnknown = processWarning;
let warnedUnknown = false;

/**
 * Where the warning of an unknown SCI goes from now on: `logger`, the app's JSON log, where every
 * other line of the service is. A new logger is warned once more (a new app, a test's).
 */
export function warnUnknownSciTo(logger: Pick<Logger, 'warn'>): void {
  warnUnknown = (message) => logger.warn({ code: UNKNOWN_SCI }, message);
  warnedUnknown = false;
}

/**
 * sciOf for an answer (/chat, /predict, the dashboard's lists): a part that is no finite number,
 * which sciOf refuses with a RangeError, makes the score unknown instead of the answer a 500 (a
 * /chat's after its LLM call was paid for; every /dashboard/data while it stayed in a total).
 * Warned once per logger (warnUnknownSciTo): the meter gave a figure it should not have.
 */
export function shownSci(parts: SciParts, units = 1): ShownSci {
  try {
    return sciOf(parts, units);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    if (!warnedUnknown) {
      warnedUnknown = true;
      warnUnknown(`an SCI is shown as unknown: ${err.message}`);
    }
    return {
      operationalGrams: null,
      embodiedGrams: null,
      units,
      gramsPerUnit: null,
      estimated: true,
    };
  }
}

/** How the app's answers (/predict, /chat, the dashboard) show an operation's footprint. */
export interface FootprintView {
  operation: string;
  durationSeconds: number;
  energyJoules: number;
  /** E × I: the operational emissions. */
  emissionsGrams: number;
  /** M: its share of the process's embodied emissions (always estimated). */
  embodiedGrams: number;
  /** (E × I + M) / R with R = 1: this operation's SCI, with its parts. */
  sci: ShownSci;
  estimated: boolean;
  /** True until the sample after the operation's end settles its figure. */
  provisional: boolean;
}

/** The fields of a footprint the app shows; what it carried from its start (a span) stays out. */
export function footprintView(f: OperationFootprint): FootprintView {
  return {
    operation: f.operation,
    durationSeconds: f.durationSeconds,
    energyJoules: f.joules,
    emissionsGrams: f.grams,
    embodiedGrams: f.embodiedGrams,
    sci: shownSci(f),
    estimated: f.estimated,
    provisional: f.provisional,
  };
}
