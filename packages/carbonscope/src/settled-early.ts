import type { OperationAttributes } from './energy/index.js';
import { KeptRecords } from './kept-records.js';
import type { SettledFigures } from './otel/binding/index.js';

/** One series' footprint, its figures set for each one replayed. */
type Replayed = { -readonly [K in keyof SettledFigures]: SettledFigures[K] };

/** Figures a footprint keeps here: its energy, usage and embodied emissions. */
const FIGURES = 3;

/**
 * Footprints settled before register bound its instruments, kept for recording once it has: a
 * batch that tracks each row of a loop that never yields ends them all before the first sample,
 * which register chooses its exporter after. Kept as three numbers and the index of their series
 * (name, estimated, attributes: bounded as the labels are), 28 bytes each where a footprint
 * object took ~195 (100,000 of them measured in a heap), so that what the tracker hands over at
 * that sample (65,536 settled, and any reported at once before) fits, up to `max`; past it, only
 * counted (KeptRecords).
 */
export class SettledEarly {
  /** Series by estimated and operation, then by the attributes object (by identity). */
  private readonly records: KeptRecords<
    Replayed,
    string,
    Map<OperationAttributes | undefined, number>
  >;

  constructor(max: number) {
    this.records = new KeptRecords(max, FIGURES);
  }

  /** How many came past `max`: not recorded. */
  get dropped(): number {
    return this.records.dropped;
  }

  add(footprint: SettledFigures): void {
    if (this.records.refused()) return;
    const at = this.records.push(this.indexOf(footprint));
    const figures = this.records.figures;
    figures[at] = footprint.joules;
    figures[at + 1] = footprint.grams;
    figures[at + 2] = footprint.embodiedGrams;
  }

  /**
   * Hands each kept footprint to `record`, in the order they came, then keeps nothing. The object
   * `record` gets is one per series, its figures set for each call: read it there, keep none.
   */
  replay(record: (footprint: SettledFigures) => void): void {
    this.records.forEach((footprint, figures, at) => {
      footprint.joules = figures[at] as number;
      footprint.grams = figures[at + 1] as number;
      footprint.embodiedGrams = figures[at + 2] as number;
      record(footprint);
    });
    this.clear();
  }

  clear(): void {
    this.records.clear();
  }

  private indexOf({ operation, estimated, attributes }: SettledFigures): number {
    const key = `${estimated ? 1 : 0}${operation}`;
    const byAttributes = KeptRecords.branch(this.records.index, key);
    const index = byAttributes.get(attributes);
    if (index !== undefined) return index;
    const one: Replayed = { operation, estimated, joules: 0, grams: 0, embodiedGrams: 0 };
    const series = attributes === undefined ? one : { ...one, attributes };
    return this.records.addSeries(byAttributes, attributes, series);
  }
}
