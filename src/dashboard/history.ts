const BYTES_PER_VALUE = Float64Array.BYTES_PER_ELEMENT;

export interface HistoryOptions {
  /** Rows kept; the oldest is overwritten when full. */
  capacity: number;
  /** Named columns besides the time; a column asked for beyond this is refused. */
  maxColumns: number;
}

/** Rows appended after a cursor, column by column (the shape uPlot draws). */
export interface HistorySlice {
  /** Sequence number of the last row appended so far: the cursor for the next call. */
  seq: number;
  /** Sequence number of the first row in this slice (seq + 1 when the slice is empty). */
  from: number;
  /** True when rows after the cursor were already overwritten: the caller missed some. */
  truncated: boolean;
  /** Epoch ms of each row. */
  times: number[];
  /** One array per column, aligned with `times`; null where a column had no value. */
  columns: Record<string, Array<number | null>>;
}

/**
 * A fixed-capacity ring buffer of samples: one Float64Array for the times and one row-major
 * Float64Array for every named column, both allocated up front. Memory is therefore capped at
 * `RingHistory.bytesFor(capacity, maxColumns)` however long the service runs, and appending a
 * row allocates nothing. Rows are numbered 1, 2, 3… (`seq`) so a poller asks only for what it
 * has not seen.
 */
export class RingHistory {
  readonly capacity: number;
  readonly maxColumns: number;
  private readonly times: Float64Array;
  private readonly values: Float64Array;
  private readonly keys: string[] = [];
  private readonly index = new Map<string, number>();
  private written = 0;
  private rowBase = -1;

  /** Bytes held by the typed arrays of a history of this shape. */
  static bytesFor(capacity: number, maxColumns: number): number {
    return capacity * (1 + maxColumns) * BYTES_PER_VALUE;
  }

  constructor(options: HistoryOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`history capacity must be a positive integer, got ${options.capacity}`);
    }
    if (!Number.isInteger(options.maxColumns) || options.maxColumns < 1) {
      throw new RangeError(`history columns must be a positive integer, got ${options.maxColumns}`);
    }
    this.capacity = options.capacity;
    this.maxColumns = options.maxColumns;
    this.times = new Float64Array(this.capacity);
    // NaN marks "no value": a column added later has no value in the rows written before it.
    this.values = new Float64Array(this.capacity * this.maxColumns).fill(Number.NaN);
  }

  /** Bytes held by the typed arrays: constant from construction on. */
  get memoryBytes(): number {
    return this.times.byteLength + this.values.byteLength;
  }

  /** Sequence number of the newest row (0 before the first). */
  get seq(): number {
    return this.written;
  }

  /** Rows held now. */
  get size(): number {
    return Math.min(this.written, this.capacity);
  }

  get columnKeys(): readonly string[] {
    return this.keys;
  }

  /** Starts a new row at `timeMs`, overwriting the oldest when full; its columns start empty. */
  append(timeMs: number): void {
    const slot = this.written % this.capacity;
    this.written++;
    this.times[slot] = timeMs;
    this.rowBase = slot * this.maxColumns;
    this.values.fill(Number.NaN, this.rowBase, this.rowBase + this.maxColumns);
  }

  /**
   * Moves the time of every row held from `fromSeq` on by `deltaMs`: the wall clock stepped back,
   * and the rows are put on its new reading so windows back from now stay whole. A row moved
   * before the one ahead of it takes that one's time: times stay in order.
   */
  shiftTimes(deltaMs: number, fromSeq = this.oldestSeq): void {
    const first = Math.max(fromSeq, this.oldestSeq);
    for (let seq = first; seq <= this.written; seq++) {
      const slot = this.slotOf(seq);
      this.times[slot] += deltaMs;
      const before = seq > this.oldestSeq ? this.times[this.slotOf(seq - 1)] : this.times[slot];
      if (this.times[slot] < before) this.times[slot] = before;
    }
  }

  /**
   * Sets a column of the newest row. Returns false (and stores nothing) when the column would be
   * one more than `maxColumns`, or before the first row.
   */
  set(key: string, value: number): boolean {
    if (this.rowBase < 0) return false;
    const column = this.columnOf(key);
    if (column < 0) return false;
    this.values[this.rowBase + column] = value;
    return true;
  }

  /** The newest value of a column, or undefined. */
  latest(key: string): number | undefined {
    return this.valueAt(this.written, key);
  }

  /** The value of a column in row `seq`, or undefined when that row is gone or has none. */
  valueAt(seq: number, key: string): number | undefined {
    const column = this.index.get(key);
    if (column === undefined || !this.holds(seq)) return undefined;
    const value = this.values[this.slotOf(seq) * this.maxColumns + column];
    return Number.isNaN(value) ? undefined : value;
  }

  /** The time of row `seq`, or undefined when that row is gone. */
  timeAt(seq: number): number | undefined {
    return this.holds(seq) ? this.times[this.slotOf(seq)] : undefined;
  }

  /** Sequence number of the oldest row still held (seq + 1 when empty). */
  get oldestSeq(): number {
    return this.written - this.size + 1;
  }

  /** Sequence number of the newest row at or before `timeMs` still held, or undefined. */
  seqAtOrBefore(timeMs: number): number | undefined {
    for (let seq = this.written; seq >= this.oldestSeq; seq--) {
      if (this.times[this.slotOf(seq)] <= timeMs) return seq;
    }
    return undefined;
  }

  /** The rows after `cursor` (all rows held when cursor is 0 or out of range). */
  since(cursor: number): HistorySlice {
    const oldest = this.oldestSeq;
    const valid = Number.isInteger(cursor) && cursor >= 0 && cursor <= this.written;
    const after = valid ? cursor : 0;
    const from = Math.max(after + 1, oldest);
    const times: number[] = [];
    const columns: Record<string, Array<number | null>> = {};
    for (const key of this.keys) columns[key] = [];
    for (let seq = from; seq <= this.written; seq++) {
      const slot = this.slotOf(seq);
      times.push(this.times[slot]);
      const base = slot * this.maxColumns;
      this.keys.forEach((key, column) => {
        const value = this.values[base + column];
        columns[key].push(Number.isNaN(value) ? null : value);
      });
    }
    return {
      seq: this.written,
      from,
      truncated: valid && after > 0 && after + 1 < oldest,
      times,
      columns,
    };
  }

  /**
   * Every row held, in at most `maxRows` rows (a chart a few hundred pixels wide draws no more):
   * the older rows in runs of consecutive rows, each at the time of its last row, with the mean
   * of each column's values in it, or its last value for the columns in `runningTotals` (a
   * running total's mean is no total); the newest row alone, as it is, so that the newest
   * figures read the same as in a full answer. Held rows that fit are sent as they are.
   */
  downsampled(maxRows: number, runningTotals: ReadonlySet<string>): HistorySlice {
    const oldest = this.oldestSeq;
    const older = this.size - 1;
    if (this.size <= maxRows || maxRows < 2) return this.since(0);
    const runs = maxRows - 1;
    const times: number[] = [];
    const columns: Record<string, Array<number | null>> = {};
    for (const key of this.keys) columns[key] = [];
    for (let run = 0; run < runs; run++) {
      const first = oldest + Math.floor((run * older) / runs);
      const last = oldest + Math.floor(((run + 1) * older) / runs) - 1;
      times.push(this.times[this.slotOf(last)]);
      this.keys.forEach((key, column) => {
        columns[key].push(this.runValue(first, last, column, runningTotals.has(key)));
      });
    }
    const newest = this.since(this.written - 1);
    times.push(...newest.times);
    for (const key of this.keys) columns[key].push(newest.columns[key][0]);
    return { seq: this.written, from: oldest, truncated: false, times, columns };
  }

  /** The mean of a column's values in rows first..last, or its last value; null for none. */
  private runValue(first: number, last: number, column: number, lastOnly: boolean): number | null {
    let sum = 0;
    let count = 0;
    for (let seq = last; seq >= first; seq--) {
      const value = this.values[this.slotOf(seq) * this.maxColumns + column];
      if (Number.isNaN(value)) continue;
      if (lastOnly) return value;
      sum += value;
      count++;
    }
    return count > 0 ? sum / count : null;
  }

  private columnOf(key: string): number {
    const known = this.index.get(key);
    if (known !== undefined) return known;
    if (this.keys.length >= this.maxColumns) return -1;
    this.keys.push(key);
    this.index.set(key, this.keys.length - 1);
    return this.keys.length - 1;
  }

  private holds(seq: number): boolean {
    return seq >= 1 && seq <= this.written && seq > this.written - this.capacity;
  }

  private slotOf(seq: number): number {
    return (seq - 1) % this.capacity;
  }
}
