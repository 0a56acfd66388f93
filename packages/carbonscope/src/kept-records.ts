/**
 * Records kept until something can record them, up to a bound, each as `width` numbers and the
 * index of its series: one object a series, which holds what its records share (a name, labels)
 * and is handed back with each of them, found by the caller's key in `index` (a map of maps:
 * branch, addSeries). So hundreds of thousands fit where one object each took ~195 bytes; past
 * the bound, only counted. What register keeps of the footprints settled before it binds
 * (SettledEarly) and the tracker of the requests that ended while the power sources were probed
 * (RequestsEndedEarly), each with its own key and figures. No room is taken before the first
 * record.
 */
export class KeptRecords<S, K, V> {
  /** The caller's series by the first part of their key; cleared with them. */
  readonly index = new Map<K, V>();
  private readonly series: S[] = [];
  private values = new Float64Array(0);
  private seriesAt = new Uint32Array(0);
  private kept = 0;
  private over = 0;

  constructor(
    private readonly max: number,
    private readonly width: number,
  ) {}

  /** The map under `key` in `map`, made there if it had none: a level of an index of series. */
  static branch<L, A, B>(map: Map<L, Map<A, B>>, key: L): Map<A, B> {
    let inner = map.get(key);
    if (!inner) {
      inner = new Map();
      map.set(key, inner);
    }
    return inner;
  }

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

  /** Keeps `one` as a new series, under `key` in `byKey` (a level of index); its index. */
  addSeries<L>(byKey: Map<L, number>, key: L, one: S): number {
    const index = this.series.length;
    this.series.push(one);
    byKey.set(key, index);
    return index;
  }

  /** The object of the series at `index` (from addSeries). */
  seriesOf(index: number): S {
    return this.series[index] as S;
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

  /**
   * Calls `fn` with each record's series object, the figures and where its numbers are in them,
   * in the order they came.
   */
  forEach(fn: (series: S, figures: Float64Array, at: number) => void): void {
    const figures = this.values;
    for (let i = 0; i < this.kept; i++) {
      fn(this.series[this.seriesAt[i] as number] as S, figures, i * this.width);
    }
  }

  clear(): void {
    this.values = new Float64Array(0);
    this.seriesAt = new Uint32Array(0);
    this.kept = 0;
    this.over = 0;
    this.series.length = 0;
    this.index.clear();
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
