import { BoundedLabelSet, englishOrder, type LentFigures } from 'carbonscope';
import { shownSci } from '../footprint.js';

/** Endpoints beyond this many share the row `other`, so the table and history stay bounded. */
export const MAX_ENDPOINTS = 16;
export const OTHER_ENDPOINT = 'other';

interface EndpointTotals {
  endpoint: string;
  requests: number;
  joules: number;
  grams: number;
  embodiedGrams: number;
  /** Requests since the last sample, turned into a rate when the sample is taken. */
  pending: number;
  estimated: boolean;
}

export interface EndpointStats {
  endpoint: string;
  requests: number;
  /** Mean energy and emissions per request since the start: E × I, M and their SCI. */
  joulesPerRequest: number;
  gramsPerRequest: number;
  embodiedGramsPerRequest: number;
  /** Null when unknown: a total that is no finite number. */
  sciGramsPerRequest: number | null;
  estimated: boolean;
}

/**
 * Per-endpoint request counts and footprints, fed by the ended request operations
 * (named by route template, so the set of endpoints is already bounded; the cap
 * is a second fence).
 */
export class RequestStats {
  private readonly byEndpoint = new Map<string, EndpointTotals>();
  private readonly endpoints = new BoundedLabelSet({
    capacity: MAX_ENDPOINTS - 1,
    maxLength: 200,
    overflow: OTHER_ENDPOINT,
  });

  /** `figures` are lent (see LentFigures): read here, none kept. */
  record(figures: LentFigures): void {
    const totals = this.totalsOf(figures.operation);
    totals.requests++;
    totals.pending++;
    totals.estimated = figures.estimated;
    // A figure that is no number would stay in the running totals, every mean after it NaN:
    // that request's figure is left out (shownSci warns of it once). Three tests, not an array
    // of the three and its every(): that was an object per request.
    const { joules, grams, embodiedGrams } = figures;
    if (!(Number.isFinite(joules) && Number.isFinite(grams) && Number.isFinite(embodiedGrams))) {
      shownSci(figures);
      return;
    }
    totals.joules += joules;
    totals.grams += grams;
    totals.embodiedGrams += embodiedGrams;
  }

  /** Requests per second of each endpoint since the previous call; resets the counts. */
  drainRates(elapsedSeconds: number, visit: (endpoint: string, perSecond: number) => void): void {
    for (const totals of this.byEndpoint.values()) {
      visit(totals.endpoint, elapsedSeconds > 0 ? totals.pending / elapsedSeconds : 0);
      totals.pending = 0;
    }
  }

  /** Ties in English order whatever LANG says (et_EE put `/z` before `/t`), as the library's. */
  list(): EndpointStats[] {
    return [...this.byEndpoint.values()]
      .map((t) => {
        const requests = Math.max(t.requests, 1);
        return {
          endpoint: t.endpoint,
          requests: t.requests,
          joulesPerRequest: t.joules / requests,
          gramsPerRequest: t.grams / requests,
          embodiedGramsPerRequest: t.embodiedGrams / requests,
          sciGramsPerRequest: shownSci(t, requests).gramsPerUnit,
          estimated: t.estimated,
        };
      })
      .sort((a, b) => b.requests - a.requests || englishOrder(a.endpoint, b.endpoint));
  }

  private totalsOf(name: string): EndpointTotals {
    const endpoint = this.endpoints.label(name);
    let totals = this.byEndpoint.get(endpoint);
    if (!totals) {
      totals = {
        endpoint,
        requests: 0,
        joules: 0,
        grams: 0,
        embodiedGrams: 0,
        pending: 0,
        estimated: true,
      };
      this.byEndpoint.set(endpoint, totals);
    }
    return totals;
  }
}
