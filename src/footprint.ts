import { type OperationFootprint, type SciScore, sciOf } from 'carbonscope';

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
  sci: SciScore;
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
    sci: sciOf(f),
    estimated: f.estimated,
    provisional: f.provisional,
  };
}
