import { KeptRecords } from '../kept-records.js';
import type { EndedRequest, HttpRequestFacts } from './types.js';

/** One series' request, its duration set for each one replayed (startMs 0, endMs the duration). */
type Replayed = { -readonly [K in keyof EndedRequest]: EndedRequest[K] };

/**
 * Requests that ended while the power sources were probed (a second or more for a slow
 * nvidia-smi), before any binding listened for them (the instrumentation binds once its start
 * ended): kept for `http.server.request.duration` as register keeps the footprints settled
 * before it binds (SettledEarly, on the same KeptRecords): their duration and the index of their
 * series (route name, status, the interned HTTP facts), 12 bytes each, up to `max`; past it,
 * only counted.
 */
export class RequestsEndedEarly {
  /** Series by route name, then status (0 for none), then HTTP facts (interned: by identity). */
  private readonly records: KeptRecords<
    Replayed,
    string,
    Map<number, Map<HttpRequestFacts | undefined, number>>
  >;
  /** The last request's series: a probe's requests are mostly one route's (a health check). */
  private last: Replayed | undefined;
  private lastIndex = 0;

  constructor(max: number) {
    this.records = new KeptRecords(max, 1);
  }

  /** How many came past `max`: not kept. */
  get dropped(): number {
    return this.records.dropped;
  }

  /** How many are kept. */
  get size(): number {
    return this.records.size;
  }

  /** Keeps `request` (lent for the call: only its fields are read). */
  add(request: EndedRequest): void {
    if (this.records.refused()) return;
    const at = this.records.push(this.indexOf(request));
    this.records.figures[at] = request.endMs - request.startMs;
  }

  /**
   * Hands each kept request to `record`, in the order they ended, then keeps nothing. The
   * request `record` gets is one per series, its times set for each call (startMs 0, endMs its
   * duration): read it there, keep none.
   */
  replay(record: (request: EndedRequest) => void): void {
    this.records.forEach((request, durations, at) => {
      request.endMs = durations[at] as number;
      record(request);
    });
    this.clear();
  }

  clear(): void {
    this.records.clear();
    this.last = undefined;
  }

  private indexOf({ name, status, http }: EndedRequest): number {
    const last = this.last;
    if (last && last.name === name && last.status === status && last.http === http) {
      return this.lastIndex;
    }
    const byStatus = KeptRecords.branch(this.records.index, name);
    const byFacts = KeptRecords.branch(byStatus, status ?? 0);
    let index = byFacts.get(http);
    if (index === undefined) {
      index = this.records.addSeries(byFacts, http, { name, status, http, startMs: 0, endMs: 0 });
    }
    this.last = this.records.seriesOf(index);
    this.lastIndex = index;
    return index;
  }
}
