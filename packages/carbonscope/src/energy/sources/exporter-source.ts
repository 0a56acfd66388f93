import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from '../../real-timers.js';
import { messageOf } from '../../thrown-text.js';
import { untraced } from '../../untraced.js';
import { FetchFailure } from './bounded-fetch.js';
import type { SeriesSample } from './exposition.js';
import type { Component, EnergyReading, PowerSource, ProbeResult, SampleTick } from './source.js';

/** One figure an exporter gives for this container/process or for its node. */
export interface ExporterFigure {
  /** `process`: the container or process carbonscope runs in; `host`: its node. */
  scope: 'process' | 'host';
  component: Component;
  device: string;
  /** A cumulative joules counter, or a power gauge in watts. */
  unit: 'joules' | 'watts';
  value: number;
  /** Epoch ms of the value, when the answer says (a Prometheus query, /federate). */
  timestampMs?: number;
}

export type Interpretation =
  | { ok: true; figures: ExporterFigure[]; detail: string }
  | { ok: false; kind: 'missing'; reason: string };

/** What makes an exporter's series into figures: Kepler's and Scaphandre's metric names. */
export interface ExporterSpec {
  readonly name: 'kepler' | 'scaphandre';
  /** The metric names to keep from an exposition. */
  wanted(metric: string): boolean;
  /** One PromQL instant query that answers the same series, narrowed to this container. */
  query(): string;
  interpret(samples: readonly SeriesSample[]): Interpretation;
}

export type FaultKind = 'unreachable' | 'stale' | 'missing' | 'reset' | 'malformed';

/** Thrown by sample() when the exporter's figure cannot be used for this interval. */
export class ExporterFault extends Error {
  constructor(
    readonly kind: FaultKind,
    message: string,
  ) {
    super(message);
    this.name = 'ExporterFault';
  }
}

export interface ExporterSourceOptions {
  spec: ExporterSpec;
  /** One read of the series: a scrape of /metrics or a Prometheus query. */
  read: () => Promise<SeriesSample[]>;
  /** Where the figures come from, for the log (no query string). */
  where: string;
  /** How often the exporter is read in the background. */
  intervalMs: number;
  /** No good read for this long (or a sample this old) hands over; 3 intervals by default. */
  staleAfterMs?: number;
  /** Monotonic ms, the meter's clock. */
  clock?: () => number;
  /** Epoch ms, for the timestamps a Prometheus answer carries. */
  wallClock?: () => number;
  /** Reads in the background on its own timer (false: only refresh() reads; tests). */
  background?: boolean;
}

/** A cumulative counter turned into energy per interval, paced over the exporter's updates. */
interface Counter {
  readonly figure: ExporterFigure;
  /** Counter value at the last read. */
  last: number;
  /** The latest moves of the counter (monotonic ms, value), oldest first. */
  steps: Array<{ ms: number; value: number }>;
  /** Joules seen in the counter and not yet handed out. */
  owed: number;
  /** Watts at which `owed` is handed out. */
  rate: number;
}

export interface ExporterSource extends PowerSource {
  /** Reads the exporter once now (the background timer does this every interval). */
  refresh(): Promise<void>;
  /** The figures of the latest good read, in words (for the log and /energy reasons). */
  readonly detail: string;
}

/**
 * The power at which a counter's increase is handed out is its average over this many of its
 * latest steps: exporters' steps are seen a read early or late, and a power taken from one
 * step alone would swing between intervals (which per-operation shares, taken at the power of
 * the latest interval, turn into an error).
 */
export const PACE_STEPS = 4;

const keyOf = (f: ExporterFigure) => `${f.scope}|${f.component}|${f.device}`;

/**
 * A power source fed by an exporter that already splits node power per container or process
 * (Kepler, Scaphandre): its readings are the process scope's as they are (`scope: 'process'`),
 * and what the exporter says of the node goes to the host scope.
 *
 * sample() stays synchronous and cheap: the exporter is read in the background every
 * `intervalMs`, and sample() only hands out what the latest reads found. Exporters update
 * their counters in steps (Kepler every 5 s by default), so what a counter shows is handed
 * out at its average power over its latest steps rather than dumped on one interval:
 * per-operation figures stay smooth, and every joule the counter shows is handed out once
 * (what is still owed at the end of a window is at most about one step's worth).
 *
 * sample() throws ExporterFault when this interval's figure cannot be trusted: the counter
 * went back (the exporter restarted), the series is missing, or no good read (or only old
 * samples) for `staleAfterMs`. The caller hands over to another source (see handover.ts);
 * the exporter keeps being read, and its figures are used again as soon as they are good.
 */
export function createExporterSource(o: ExporterSourceOptions): ExporterSource {
  const clock = o.clock ?? (() => performance.now());
  const wallClock = o.wallClock ?? Date.now;
  const staleAfterMs = o.staleAfterMs ?? 3 * o.intervalMs;
  const counters = new Map<string, Counter>();
  const gauges = new Map<string, { figure: ExporterFigure; watts: number }>();
  let lastGoodMs: number | undefined;
  let lastError: FetchFailure | undefined;
  let problem: ExporterFault | undefined;
  let reset: ExporterFault | undefined;
  /** Time since the last good read that another source covered while this one was unusable. */
  let coveredMs = 0;
  let detail = 'not read yet';
  let reading: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const apply = (figures: readonly ExporterFigure[], now: number) => {
    // Intervals handed over since the last good read were counted by another source: of the
    // increase since then, only the time nobody covered is this source's to give.
    const ownShare =
      lastGoodMs !== undefined && now > lastGoodMs
        ? Math.min(1, Math.max(0, 1 - coveredMs / (now - lastGoodMs)))
        : 1;
    // A gauge is the power now: one this read no longer gives has no value, not its old one.
    gauges.clear();
    for (const f of figures) {
      const key = keyOf(f);
      if (f.unit === 'watts') {
        gauges.set(key, { figure: f, watts: f.value });
        continue;
      }
      const c = counters.get(key);
      if (!c) {
        counters.set(key, {
          figure: f,
          last: f.value,
          steps: [{ ms: now, value: f.value }],
          owed: 0,
          rate: 0,
        });
        continue;
      }
      if (f.value < c.last) {
        reset ??= new ExporterFault(
          'reset',
          `${f.scope === 'process' ? 'the container' : 'the node'}'s ${f.device} counter went ` +
            `back from ${c.last.toFixed(1)} J to ${f.value.toFixed(1)} J (the exporter restarted)`,
        );
        c.last = f.value;
        c.steps = [{ ms: now, value: f.value }];
        continue;
      }
      if (f.value === c.last) continue;
      c.owed += (f.value - c.last) * ownShare;
      c.last = f.value;
      c.steps.push({ ms: now, value: f.value });
      if (c.steps.length > PACE_STEPS + 1) c.steps.shift();
      const from = c.steps[0] as { ms: number; value: number };
      c.rate = (f.value - from.value) / (Math.max(now - from.ms, 1) / 1000);
    }
  };

  const readOnce = async (): Promise<void> => {
    let samples: SeriesSample[];
    try {
      // On its own timer, for no request: no span in the app's traces (one per read otherwise).
      samples = await untraced(() => o.read());
    } catch (err) {
      lastError =
        err instanceof FetchFailure ? err : new FetchFailure('unreachable', messageOf(err));
      if (lastError.kind === 'malformed')
        problem = new ExporterFault('malformed', lastError.message);
      return;
    }
    if (closed) return;
    const now = clock();
    const found = o.spec.interpret(samples);
    if (!found.ok) {
      problem = new ExporterFault('missing', found.reason);
      return;
    }
    const oldest = Math.min(...found.figures.map((f) => f.timestampMs ?? Number.POSITIVE_INFINITY));
    if (wallClock() - oldest > staleAfterMs) {
      problem = new ExporterFault(
        'stale',
        `its latest sample is ${Math.round((wallClock() - oldest) / 1000)} s old`,
      );
      return;
    }
    apply(found.figures, now);
    detail = found.detail;
    lastGoodMs = now;
    lastError = undefined;
    problem = undefined;
    coveredMs = 0;
  };

  const refresh = (): Promise<void> => {
    // One read at a time: a slow exporter is not asked again before it has answered.
    reading ??= readOnce().finally(() => {
      reading = undefined;
    });
    return reading;
  };

  const fault = (now: number): ExporterFault | undefined => {
    if (reset) return reset;
    if (problem) return problem;
    if (lastGoodMs === undefined) {
      return new ExporterFault(
        lastError ? (lastError.kind === 'malformed' ? 'malformed' : 'unreachable') : 'stale',
        lastError ? `${o.where}: ${lastError.message}` : 'not read yet',
      );
    }
    if (now - lastGoodMs > staleAfterMs) {
      const age = `no good read for ${((now - lastGoodMs) / 1000).toFixed(1)} s`;
      return lastError
        ? new ExporterFault('unreachable', `${age} (${o.where}: ${lastError.message})`)
        : new ExporterFault('stale', age);
    }
    return undefined;
  };

  return {
    name: o.spec.name,
    estimated: false,
    kind: 'host',
    scope: 'process',
    get detail() {
      return detail;
    },
    refresh,

    async probe(): Promise<ProbeResult> {
      await refresh();
      if (o.background !== false && !timer && !closed) {
        timer = setInterval(() => void refresh(), o.intervalMs);
        timer.unref();
      }
      const f = fault(clock());
      if (f) return { ok: false, reason: f.message };
      return { ok: true, detail: `${detail} from ${o.where}` };
    },

    sample(tick: SampleTick): EnergyReading[] {
      const f = fault(tick.nowMs);
      if (f) {
        reset = undefined; // a restart costs the interval it happened in, no more
        const since = lastGoodMs === undefined ? 0 : tick.nowMs - lastGoodMs;
        coveredMs += Math.max(0, Math.min(tick.elapsedMs, since));
        throw f;
      }
      const seconds = tick.elapsedMs / 1000;
      if (!(seconds > 0)) return [];
      const out: EnergyReading[] = [];
      for (const c of counters.values()) {
        const joules = Math.min(c.owed, c.rate * seconds);
        c.owed -= joules;
        const { scope, component, device } = c.figure;
        out.push({ scope, component, device, joules, watts: joules / seconds });
      }
      for (const { figure, watts } of gauges.values()) {
        const { scope, component, device } = figure;
        out.push({ scope, component, device, joules: watts * seconds, watts });
      }
      return out;
    },

    async close(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await reading?.catch(() => undefined);
    },
  };
}
