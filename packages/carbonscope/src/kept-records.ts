/**
 * Records kept until something can record them, up to a bound, each as `width` numbers and the
 * index of its series (the caller's, which holds what they share: a name, labels), so that
 * hundreds of thousands fit where one object each took ~195 bytes; past the bound, only counted.
 * What register keeps of the footprints settled before it binds (SettledEarly) and the tracker of
 * the requests that ended while the power sources were probed (RequestsEndedEarly). Nothing is
 * allocated before the first record.
 */
export class KeptRecords {
  private values = new Float64Array(0);
  private seriesAt = new Uint32Array(0);
  private kept = 0;
  private over = 0;

  constructor(
    private readonly max: number,
    private readonly width: number,
  ) {}

  /** How many came past `max`: not kept. */
  get dropped(): number {
    return this.over;
  }

  /** How many are kept. */
  get size(): number {
    return this.kept;
  }

  /** The kept numbers: record i's are at i * width and on. */
  get figures(): Float64Array {
    return this.values;
  }

  /** Whether the bound is reached; if so, one more is counted as dropped. */
  refused(): boolean {
    if (this.kept < this.max) return false;
    this.over++;
    return true;
  }

  /** Keeps a record of `series` (after refused() said no); where its numbers go in figures. */
  push(series: number): number {
    if (this.kept === this.seriesAt.length) this.grow();
    const at = this.kept++;
    this.seriesAt[at] = series;
    return at * this.width;
  }

  /** Calls `fn` with each record's series and where its numbers are, in the order they came. */
  forEach(fn: (series: number, at: number) => void): void {
    for (let i = 0; i < this.kept; i++) fn(this.seriesAt[i] as number, i * this.width);
  }

  clear(): void {
    this.values = new Float64Array(0);
    this.seriesAt = new Uint32Array(0);
    this.kept = 0;
    this.over = 0;
  }

  private grow(): void {
    const size = Math.min(Math.max(this.seriesAt.length * 2, 1024), this.max);
    const seriesAt = new Uint32Array(size);
    seriesAt.set(this.seriesAt);
    this.seriesAt = seriesAt;
    const values = new Float64Array(size * this.width);
    values.set(this.values);
    this.values = values;
  }
}
