import type { OperationAttributes } from './energy/index.js';
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
 * counted.
 */
export class SettledEarly {
  private figures = new Float64Array(FIGURES * 1024);
  private seriesAt = new Uint32Array(1024);
  private readonly series: Replayed[] = [];
  private readonly seriesIndex = new Map<string, Map<OperationAttributes | undefined, number>>();
  private kept = 0;
  private over = 0;

  constructor(private readonly max: number) {}

  /** How many came past `max`: not recorded. */
  get dropped(): number {
    return this.over;
  }

  add(footprint: SettledFigures): void {
    if (this.kept >= this.max) {
      this.over++;
      return;
    }
    if (this.kept === this.seriesAt.length) this.grow();
    const at = this.kept++;
    this.seriesAt[at] = this.indexOf(footprint);
    this.figures[at * FIGURES] = footprint.joules;
    this.figures[at * FIGURES + 1] = footprint.grams;
    this.figures[at * FIGURES + 2] = footprint.embodiedGrams;
  }

  /**
   * Hands each kept footprint to `record`, in the order they came, then keeps nothing. The object
   * `record` gets is one per series, its figures set for each call: read it there, keep none.
   */
  replay(record: (footprint: SettledFigures) => void): void {
    for (let i = 0; i < this.kept; i++) {
      const footprint = this.series[this.seriesAt[i] as number] as Replayed;
      footprint.joules = this.figures[i * FIGURES] as number;
      footprint.grams = this.figures[i * FIGURES + 1] as number;
      footprint.embodiedGrams = this.figures[i * FIGURES + 2] as number;
      record(footprint);
    }
    this.clear();
  }

  clear(): void {
    this.figures = new Float64Array(0);
    this.seriesAt = new Uint32Array(0);
    this.series.length = 0;
    this.seriesIndex.clear();
    this.kept = 0;
    this.over = 0;
  }

  private indexOf({ operation, estimated, attributes }: SettledFigures): number {
    const key = `${estimated ? 1 : 0}${operation}`;
    let byAttributes = this.seriesIndex.get(key);
    if (!byAttributes) {
      byAttributes = new Map();
      this.seriesIndex.set(key, byAttributes);
    }
    let index = byAttributes.get(attributes);
    if (index === undefined) {
      index = this.series.length;
      const one: Replayed = { operation, estimated, joules: 0, grams: 0, embodiedGrams: 0 };
      this.series.push(attributes === undefined ? one : { ...one, attributes });
      byAttributes.set(attributes, index);
    }
    return index;
  }

  private grow(): void {
    const size = Math.min(this.seriesAt.length * 2, this.max);
    const seriesAt = new Uint32Array(size);
    seriesAt.set(this.seriesAt);
    this.seriesAt = seriesAt;
    const figures = new Float64Array(size * FIGURES);
    figures.set(this.figures);
    this.figures = figures;
  }
}
