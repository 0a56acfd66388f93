import type { IntensityReading } from '../grid/index.js';
import type { Component } from './sources/index.js';

export type { Component };

export type Scope = 'host' | 'process';

/** One `{scope, component, source}` series of one sample. */
export interface PowerFigure {
  readonly scope: Scope;
  readonly component: Component;
  readonly source: string;
  /** True when the figure comes from a model (the estimate source), not a meter. */
  readonly estimated: boolean;
  /** Average power over the sample's interval. */
  readonly watts: number;
  /** Energy since the meter started (never decreases). */
  readonly joules: number;
}

/** Emissions of one scope in one zone, of the energy meters measured or of the estimated. */
export interface EmissionsFigure {
  readonly scope: Scope;
  readonly zone: string;
  /** True for the emissions of energy a model estimated (the estimate source's). */
  readonly estimated: boolean;
  /** gCO2e since the meter started (never decreases). */
  readonly grams: number;
  /** Over the sample's interval; 0 for a zone no longer priced. */
  readonly gramsPerSecond: number;
}

export interface ScopeTotals {
  readonly joules: number;
  readonly grams: number;
  readonly watts: number;
  readonly gramsPerSecond: number;
  readonly estimated: boolean;
}

/**
 * What the meter found over one interval, and its running totals: built once per interval and
 * never changed afterwards (Kepler's snapshot), so every reader (instruments, /energy, the
 * dashboard, the CLI) sees one consistent picture without copying or locking.
 */
export interface EnergySample {
  /** 1 for the first sample after start. */
  readonly seq: number;
  /** Monotonic milliseconds at the end of the interval. */
  readonly nowMs: number;
  /** Wall-clock epoch milliseconds at the end of the interval. */
  readonly wallMs: number;
  readonly elapsedMs: number;
  /** Energy in this interval. */
  readonly hostJoules: number;
  readonly processJoules: number;
  readonly hostWatts: number;
  readonly processWatts: number;
  readonly hostGrams: number;
  readonly processGrams: number;
  /** The process's share of the host's CPU-side energy over this interval, 0..1. */
  readonly processShare: number;
  /** Host CPU busy fraction over this interval, 0..1. */
  readonly hostUtilization: number;
  /** CPU seconds the measured process used in this interval. */
  readonly processCpuSeconds: number;
  /** Null when no intensity was known yet (the energy is then not priced). */
  readonly intensity: IntensityReading | null;
  /** gCO2e per joule at this sample's intensity and the PUE; 0 when no intensity was known. */
  readonly gramsPerJoule: number;
  readonly power: readonly PowerFigure[];
  readonly emissions: readonly EmissionsFigure[];
  readonly totals: { readonly host: ScopeTotals; readonly process: ScopeTotals };
  /** Readings dropped as NaN, negative, infinite or implausible, since start. */
  readonly droppedReadings: number;
  /** Energy used before any grid intensity was known: counted, but without emissions. */
  readonly unpricedJoules: number;
}

/** What one operation (a request, an inference, a job) cost while it ran. */
export interface OperationFootprint {
  /** The operation's name: a route template (`/predict`), `inference`, or a name of yours. */
  readonly operation: string;
  /** `request` for an incoming HTTP request, `operation` for anything else. */
  readonly kind: OperationKind;
  readonly durationSeconds: number;
  /** Its share of the process's energy while it ran. */
  readonly joules: number;
  /** joules × PUE × the grid intensity of the time. */
  readonly grams: number;
  /** True when the process energy behind it came from an estimate rather than a meter. */
  readonly estimated: boolean;
  /** What the operation carried from its start (e.g. the span active then); see TrackerOptions. */
  readonly context?: unknown;
  /** HTTP requests only: the response status. */
  readonly status?: number;
  /** HTTP requests only: the request's method and scheme, as the HTTP metrics label them. */
  readonly http?: HttpRequestFacts;
}

export type OperationKind = 'request' | 'operation';

/** What the semantic conventions label an HTTP server request's duration with, besides route and status. */
export interface HttpRequestFacts {
  /** `http.request.method`: one of the known methods, or `_OTHER`. */
  readonly method: string;
  /** `url.scheme`. */
  readonly scheme: 'http' | 'https';
}

export interface ActiveOperation {
  /**
   * Ends the operation, reports it, and returns its footprint. `operation` renames it when the
   * name is known only at the end (a request's route template); `status` and `http` describe
   * an HTTP request. Idempotent.
   */
  end(operation?: string, status?: number, http?: HttpRequestFacts): OperationFootprint;
}

/** What routes, middleware and library users need to meter their own work. */
export interface OperationTracker {
  begin(operation: string, kind?: OperationKind): ActiveOperation;
  /** Runs fn (sync or async) as one operation; returns what fn returns. */
  track<T>(operation: string, fn: () => T): T;
  /** Runs fn (sync or async) as one operation; resolves to its result and its footprint. */
  measure<T>(
    operation: string,
    fn: () => T | PromiseLike<T>,
  ): Promise<{ result: T; footprint: OperationFootprint }>;
}

export type OperationListener = (footprint: OperationFootprint) => void;
export type SampleListener = (sample: EnergySample) => void;
