import type { IntensityReading } from '../grid/index.js';
import type { OperationAttributes } from '../labels/index.js';
import type { SciScore } from './sci.js';
import type { Component } from './sources/index.js';

export type { Component, OperationAttributes };

export type Scope = 'host' | 'process';

/** One `{scope, component, source}` series of one sample. */
export interface PowerFigure {
  readonly scope: Scope;
  readonly component: Component;
  readonly source: string;
  /** True when the figure comes from a model (the estimate source), not a meter. */
  readonly estimated: boolean;
  /**
   * Average power over the sample's interval, or over it and the ones before it when it is
   * shorter than RATE_WINDOW_MS (a collection's sample right after the last).
   */
  readonly watts: number;
  /** Energy since the meter started (never decreases). */
  readonly joules: number;
  /**
   * Intervals since the start whose reading was `partial` (a RAPL zone or a GPU's power that
   * could not be read): `joules` is short of them. Absent while there has been none.
   */
  readonly partialIntervals?: number;
}

/**
 * The intervals since the start whose host CPU time was not read (HostCpuDelta's `standIn` and
 * `unread`): its last reading, or the process's own CPU time, stood in for the host's load, which
 * the process's share (and an estimated power, a model of that load) rest on.
 */
export interface HostCpuStandIns {
  readonly intervals: number;
  /** Why the latest of them was not read. */
  readonly reason: string;
}

/** Emissions of one scope in one zone, of the energy meters measured or of the estimated. */
export interface EmissionsFigure {
  readonly scope: Scope;
  readonly zone: string;
  /** True for the emissions of energy a model estimated (the estimate source's). */
  readonly estimated: boolean;
  /** gCO2e since the meter started (never decreases). */
  readonly grams: number;
  /**
   * Over the sample's interval (at least RATE_WINDOW_MS, as watts); 0 for a zone no longer
   * priced.
   */
  readonly gramsPerSecond: number;
}

export interface ScopeTotals {
  readonly joules: number;
  /**
   * Of `joules`, those an estimate gave (the estimate power source, or a model of GPUs): a
   * source that handed over or started late can leave measured totals with estimated parts.
   */
  readonly estimatedJoules: number;
  /** Operational emissions (energy × PUE × grid intensity) since the meter started. */
  readonly grams: number;
  readonly watts: number;
  readonly gramsPerSecond: number;
  /**
   * True when any of the totals is an estimate's (estimatedJoules > 0), or the sources in use
   * are: the figures are not all measured.
   */
  readonly estimated: boolean;
  /** True when `watts` and `gramsPerSecond` come from an estimate: the sources in use now. */
  readonly wattsEstimated: boolean;
  /**
   * Embodied emissions since the meter started: the reserved share of the host's manufacturing
   * emissions over the time (host), and the process's share of those (process). Always
   * estimated; 0 when the embodied emissions are left out (EMBODIED_KGCO2E=0).
   */
  readonly embodiedGrams: number;
  /** The same over the sample's interval (at least RATE_WINDOW_MS, as watts), per second. */
  readonly embodiedGramsPerSecond: number;
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
  /**
   * Milliseconds the machine was suspended in this interval, by the boot clock: time elapsedMs
   * (monotonic) does not count and a counter's joules do. 0 without a boot clock or a suspend.
   */
  readonly suspendedMs: number;
  /** Energy in this interval. */
  readonly hostJoules: number;
  readonly processJoules: number;
  /** Over the interval, or at least RATE_WINDOW_MS with the ones before (PowerFigure.watts). */
  readonly hostWatts: number;
  readonly processWatts: number;
  readonly hostGrams: number;
  readonly processGrams: number;
  /**
   * Embodied emissions in this interval: the host's reserved share (TE / EL × RR / ToR × the
   * interval), and the process's part of it by the same share that attributes its energy.
   */
  readonly hostEmbodiedGrams: number;
  readonly processEmbodiedGrams: number;
  /** The process's share of the host's CPU-side energy over this interval, 0..1. */
  readonly processShare: number;
  /** Host CPU busy fraction over this interval, 0..1. */
  readonly hostUtilization: number;
  /** Intervals since the start that a stand-in gave the host CPU time of; absent while none. */
  readonly hostCpuStandIns?: HostCpuStandIns;
  /**
   * Ms of host CPU time that hostUtilization was read over: 0 where a stand-in gave it, else
   * elapsedMs and, after intervals a stand-in gave since the reader's last read, theirs too (a
   * read after a gap holds their CPU time: hostUtilization is then their average with its own).
   */
  readonly hostCpuReadMs: number;
  /** CPU seconds the measured process used in this interval. */
  readonly processCpuSeconds: number;
  /**
   * Of processCpuSeconds, the CPU of the process's non-Node children in this interval, running
   * or reaped (ffmpeg, a Python script, `git`); absent while none. Its energy goes to the
   * operations that spawned them where that is known (EnergyTracker.priceChildren), else to none.
   */
  readonly childCpuSeconds?: number;
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
  /** Its share of the process's energy while it ran, following the CPU it used. */
  readonly joules: number;
  /** joules × PUE × the grid intensity of the time: the operational emissions (SCI's E × I). */
  readonly grams: number;
  /**
   * Its share of the process's embodied emissions while it ran (SCI's M), by the same weights
   * that share the energy; an estimate, whatever `estimated` says of the energy.
   */
  readonly embodiedGrams: number;
  /** True when the process energy behind it came from an estimate rather than a meter. */
  readonly estimated: boolean;
  /**
   * True for the figure `end()` returns: the interval the operation ended in is not sampled
   * yet, so its last part is priced at the previous interval's rate. The settled figure (false)
   * comes at the first sample after the end, to `onEnd` listeners and `settled()`.
   */
  readonly provisional: boolean;
  /** What the operation carried from its start (e.g. its span); see TrackerOptions. */
  readonly context?: OperationContext;
  /** HTTP requests only: the response status. */
  readonly status?: number;
  /** HTTP requests only: the request's method and scheme, as the HTTP metrics label them. */
  readonly http?: HttpRequestFacts;
  /**
   * HTTP requests only: what the application gave it with setAttributes(), bounded (see there).
   * Its operation histograms' series and its span carry them.
   */
  readonly attributes?: OperationAttributes;
}

export type OperationKind = 'request' | 'operation';

/** What the semantic conventions label an HTTP server request's duration with, besides route and status. */
export interface HttpRequestFacts {
  /** `http.request.method`: one of the known methods, or `_OTHER`. */
  readonly method: string;
  /** `url.scheme`. */
  readonly scheme: 'http' | 'https';
  /**
   * A gRPC call's only (HTTP/2 request tracking sets it; end() keeps method and scheme): the
   * `grpc-status` its answer ended with, 0 (OK) to 16, as `rpc.status_code` names it.
   */
  readonly grpcStatus?: number;
}

/**
 * How operations share the process's energy (ENERGY_OPERATION_ATTRIBUTION):
 * - `calibrated` (default): by their CPU time, estimated from each operation name's CPU per
 *   second of running, which short measured windows calibrate; nothing per operation between
 *   windows but a clock read;
 * - `exact`: by the CPU time measured in each operation's callbacks, always (async hooks);
 * - `wall`: by wall time, every running operation alike; never any async hook.
 */
export type OperationAttribution = 'calibrated' | 'exact' | 'wall';

/**
 * What an operation carries from its start (the OTel layer: its span), told the operation's
 * settled footprint once, before the `onEnd` listeners.
 */
export interface OperationContext {
  settle(footprint: OperationFootprint): void;
  /**
   * @internal Where a context has it, the tracker tells it the lent figures (LentFigures: read
   * in the call, none kept) in place of settle() wherever no footprint is built for anyone else,
   * so that none is built for it alone: carbonscope's request spans, one per traced request.
   */
  settleLent?(figures: LentFigures): void;
  /**
   * Told, before settle(), that the function track() or measure() ran for it threw or rejected
   * with `error` (the OTel layer marks its span as failed). `secrets` are the values carbonscope
   * knows to be secret (TrackerOptions.secrets), for what of the error goes out. Must not throw.
   */
  fail?(error: unknown, secrets: readonly string[]): void;
}

export interface ActiveOperation {
  /**
   * Ends the operation and returns its provisional footprint; the settled one follows at the
   * next sample (`settled()`, `onEnd`). `operation` renames it when the name is known only at
   * the end (a request's route template); `status` and `http` describe an HTTP request: a
   * status outside 100-599 is a RangeError, a scheme other than http/https a TypeError (the
   * operation runs on), and a method outside the known ones is labelled `_OTHER`. Idempotent.
   */
  end(operation?: string, status?: number, http?: HttpRequestFacts): OperationFootprint;
  /**
   * Runs fn (sync or async) as part of this operation, so that where CPU time is measured
   * (`exact`, and the calibration windows of `calibrated`) the time of fn and of the callbacks
   * it schedules is this operation's, not its caller's. `track()` does this for you.
   */
  run<T>(fn: () => T): T;
  /** Resolves to the settled footprint, at the first sample after `end()`. */
  settled(): Promise<OperationFootprint>;
  /** Names the operation while it runs (a request, once its route is known). */
  rename(operation: string): void;
  /**
   * Captures the context now, for an operation that began before it existed: a request begins
   * when Node announces it, before a tracing instrumentation started its span.
   */
  captureContext(): void;
}

/** What routes, middleware and library users need to meter their own work. */
export interface OperationTracker {
  begin(operation: string, kind?: OperationKind): ActiveOperation;
  /**
   * Runs fn (sync or async) as one operation; returns what fn returns, but for a thenable: a
   * native Promise of its result, then()ed once (its own methods are not on it).
   */
  track<T>(operation: string, fn: () => PromiseLike<T>): Promise<T>;
  track<T>(operation: string, fn: () => T): T;
  /**
   * Runs fn (sync or async) as one operation; resolves to its result, its settled footprint
   * (after the next sample) and its SCI for `options.units` functional units (1 by default).
   */
  measure<T>(
    operation: string,
    fn: () => T | PromiseLike<T>,
    options?: MeasureOptions<T>,
  ): Promise<Measured<T>>;
}

export interface MeasureOptions<T> {
  /**
   * R, the functional units the work is for (images resized, rows loaded): a number, or a
   * function of fn's result. 1 by default: the SCI is then per operation.
   */
  units?: number | ((result: T) => number);
}

/** What measure() resolves to. */
export interface Measured<T> {
  result: T;
  footprint: OperationFootprint;
  /** (E × I + M) / R of the operation, with its parts. */
  sci: SciScore;
}

export type OperationListener = (footprint: OperationFootprint) => void;

/** onEnd's options. */
export interface EndOptions {
  /**
   * Only operations of these kinds: a footprint is then built for those alone (a list of jobs
   * beside `onSettled`'s per-request figures has none built per request). Every kind without.
   */
  readonly kinds?: readonly OperationKind[];
}

/**
 * An operation's settled figures, for a listener that reads them and keeps none (a total, a
 * histogram): one object, its fields set for each operation and lent for the call, so that no
 * footprint is built per operation for it. Read it there and keep none of it: the next
 * operation's figures overwrite it (copy a field to keep it). Where a footprint is built for the
 * operation anyway (an `onEnd` listener wants its kind), that footprint is what is lent, on the
 * same terms.
 */
export type LentFigures = Pick<
  OperationFootprint,
  | 'operation'
  | 'kind'
  | 'estimated'
  | 'provisional'
  | 'attributes'
  | 'joules'
  | 'grams'
  | 'embodiedGrams'
>;

/** See LentFigures. */
export type LentFiguresListener = (figures: LentFigures) => void;

/**
 * A request as it ends, for what needs no energy figure (its count and duration): the tracker's
 * own record of it, lent for the call (nothing is built for it), so read it there and keep none
 * of it.
 */
export interface EndedRequest {
  /** Its operation name: the route template, or `unmatched`. */
  readonly name: string;
  readonly status: number | undefined;
  readonly http: HttpRequestFacts | undefined;
  /** Monotonic milliseconds (the tracker's clock). */
  readonly startMs: number;
  readonly endMs: number;
}

export type EndedRequestListener = (request: EndedRequest) => void;

/**
 * An operation the tracker stopped sharing the process's energy with while it ran: older than
 * the most an operation may run (`age`), or the oldest of more than the most that may run at
 * once (`running`). Most often begun with begin() and never ended.
 */
export interface DroppedOperation {
  readonly operation: string;
  readonly kind: OperationKind;
  /** How long it had run when dropped. */
  readonly ageMs: number;
  readonly reason: 'age' | 'running';
}

export type DroppedListener = (dropped: DroppedOperation) => void;

/**
 * An HTTP answer a server gave before any request reached its handler: Node's parser rejected
 * what arrived (400, 408, 413, 431), or the server refused a CONNECT. It is counted with the
 * requests but is no operation: nothing ran that used energy of its own.
 */
export interface EarlyAnswer {
  readonly status: number;
  /** The method as the HTTP metrics label it: a known one Node parsed, else `_OTHER`. */
  readonly http: HttpRequestFacts;
  /** How long the answer took, as far as the server knows (0: answered as the bytes came). */
  readonly seconds: number;
}

export type EarlyAnswerListener = (answer: EarlyAnswer) => void;
export type SampleListener = (sample: EnergySample) => void;
