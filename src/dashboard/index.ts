import { randomUUID } from 'node:crypto';
import type {
  EarlyAnswerListener,
  EndOptions,
  EnergySnapshot,
  GridIntensity,
  IntensitySource,
  LentFiguresListener,
  OperationListener,
  SampleListener,
} from 'carbonscope';
import { CAR_EQUIVALENCE_SOURCE, CAR_GRAMS_CO2_PER_METRE, carMetres } from './equivalence.js';
import { RingHistory } from './history.js';
import { RecentActivity, type RecentOperation } from './recent-activity.js';
import { type EndpointStats, MAX_ENDPOINTS, RequestStats } from './request-stats.js';

export { CAR_GRAMS_CO2_PER_METRE } from './equivalence.js';

/**
 * What the dashboard needs of carbonscope: its samples, ended operations (each request's
 * figures, lent; the other operations' footprints) and the answers given before the app
 * (Carbonscope has them).
 */
export interface DashboardMeter {
  snapshot(): EnergySnapshot;
  onSample(listener: SampleListener): () => void;
  onSettled(listener: LentFiguresListener): () => void;
  onEnd(listener: OperationListener, options?: EndOptions): () => void;
  onEarlyAnswer(listener: EarlyAnswerListener): () => void;
}

export interface DashboardOptions {
  meter: DashboardMeter;
  /** For the intensity's age and note, which the meter's snapshot does not carry. */
  grid?: GridIntensity;
  sampleIntervalMs: number;
  /** Minutes of history kept; default 60. */
  historyMinutes?: number;
  /** Operations (predictions, chats) listed; default 50. */
  recentOperations?: number;
  /** Wall clock, epoch ms. */
  now?: () => number;
}

/** The kinds of operation the recent list shows: requests are in the per-endpoint table. */
const LISTED_KINDS = ['operation'] as const;

/** Power series (scope × component × source) the history keeps a column for. */
export const MAX_POWER_SERIES = 16;
/** Fixed columns: watts, grams/s, joules and grams for host and process, and the intensity. */
const FIXED_COLUMNS = [
  'host_watts',
  'process_watts',
  'host_grams_per_second',
  'process_grams_per_second',
  'host_joules',
  'process_joules',
  'host_grams',
  'process_grams',
  'intensity',
] as const;
export const HISTORY_COLUMNS = FIXED_COLUMNS.length + MAX_POWER_SERIES + MAX_ENDPOINTS;
/** Running totals: summed up, a run of rows keeps its last value, not its mean. */
const RUNNING_TOTALS: ReadonlySet<string> = new Set([
  'host_joules',
  'process_joules',
  'host_grams',
  'process_grams',
]);
/**
 * The most rows one answer of /dashboard/data holds: a chart a few hundred pixels wide draws no
 * more. The whole history (72,000 rows an hour at a 50 ms interval, ~266 bytes each) is summed
 * up in this many for a page that starts, or fell further behind than this (a hidden tab).
 */
export const MAX_ANSWER_ROWS = 1000;
const RATE_WINDOW_MS = 60_000;
const HOUR_MS = 3_600_000;
/**
 * How far the wall clock may read behind the previous row plus the meter's (monotonic) time
 * since it before the rows are moved onto its new reading. Less is Date.now()'s whole ms, or a
 * slight step: the new row then takes the previous row's time at the least, so times stay in
 * order (the chart's x axis) without sending every page the history anew.
 */
const STEP_BACK_TOLERANCE_MS = 1000;

/** Rows kept for `minutes` of history at one row per sample. */
export function historyCapacity(minutes: number, sampleIntervalMs: number): number {
  return Math.max(1, Math.ceil((minutes * 60_000) / sampleIntervalMs));
}

/** The fixed memory of the history, in bytes, for a given span and sample interval. */
export function historyMemoryBytes(minutes: number, sampleIntervalMs: number): number {
  return RingHistory.bytesFor(historyCapacity(minutes, sampleIntervalMs), HISTORY_COLUMNS);
}

export interface PowerColumn {
  key: string;
  scope: string;
  component: string;
  source: string;
  estimated: boolean;
}

export interface DashboardData {
  /** Changes when the service restarts: the page then drops what it has. */
  boot: string;
  /**
   * True when `times`/`columns` hold the whole history (summed up in at most MAX_ANSWER_ROWS
   * rows) rather than what followed the cursor.
   */
  reset: boolean;
  seq: number;
  intervalMs: number;
  /** Milliseconds until the meter's next sample is due, so the page can poll right after it. */
  nextSampleInMs: number;
  capacity: number;
  memoryBytes: number;
  times: number[];
  columns: Record<string, Array<number | null>>;
  /**
   * The columns that are running totals: a run of rows summed up keeps their last value, not
   * their mean (the page folds its older rows the same way).
   */
  runningTotals: string[];
  power: PowerColumn[];
  endpoints: Array<{ key: string; endpoint: string }>;
  energy: {
    samples: number;
    sampledAt: string | null;
    startedAt: string | null;
    sources: EnergySnapshot['sources'];
    totals: EnergySnapshot['totals'];
    grid: EnergySnapshot['grid'] & {
      ageSeconds: number | null;
      fetchedAt: string | null;
      source: IntensitySource | string | null;
      note?: string;
    };
  };
  requests: Array<EndpointStats & { perSecond: number }>;
  /**
   * Requests the server answered before the app saw them (malformed, too slow, headers too
   * large), since the start: no operation ran for them, so `requests` leaves them out.
   */
  answeredBeforeApp: number;
  recent: RecentOperation[];
  lastHour: {
    /** The span the figure covers: an hour, or less while the service is younger. */
    windowSeconds: number;
    grams: number;
    /**
     * Whether a model gave any of the process's energy so far (the totals' `estimated`): the
     * sentence that puts these grams in words says so, as every other figure of the page does.
     */
    estimated: boolean;
    carMetres: number;
    carGramsPerMetre: number;
    equivalenceSource: string;
  };
}

export interface Dashboard {
  readonly history: RingHistory;
  data(cursor: number, boot?: string): DashboardData;
  /** Stops listening to the meter. */
  close(): void;
}

const powerKey = (scope: string, component: string, source: string) =>
  `power:${scope}:${component}:${source}`;
const endpointKey = (endpoint: string) => `rps:${endpoint}`;

/**
 * The live dashboard's state: a bounded history filled on every meter sample, the recent
 * operations and per-endpoint request figures, from the meter's samples and ended operations.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const now = options.now ?? Date.now;
  const minutes = options.historyMinutes ?? 60;
  const history = new RingHistory({
    capacity: historyCapacity(minutes, options.sampleIntervalMs),
    maxColumns: HISTORY_COLUMNS,
  });
  const recent = new RecentActivity(options.recentOperations ?? 50, now);
  const requests = new RequestStats();
  const power = new Map<string, PowerColumn>();
  const endpoints = new Map<string, string>();
  const boot = randomUUID().slice(0, 8);

  // A request's figures are added up and its footprint never listed: they are read from the
  // lent figures, and a footprint is built for the listed kinds alone. One built per request
  // was what the service's scavenges kept of carbonscope's (test/bench/OVERHEAD.md, item 38).
  const unsubscribeSettled = options.meter.onSettled((figures) => {
    if (figures.kind === 'request') requests.record(figures);
  });
  const unsubscribeEnded = options.meter.onEnd((footprint) => recent.record(footprint), {
    kinds: LISTED_KINDS,
  });
  let answeredBeforeApp = 0;
  const unsubscribeEarly = options.meter.onEarlyAnswer(() => {
    answeredBeforeApp++;
  });

  // A wall clock stepped back (NTP, a VM restored from a snapshot) would put new rows before
  // the older ones: the chart's times would go back, and the last hour and the requests/s
  // window, read back from now, would cover the whole history. The rows held are moved by the
  // step instead, and a page holding rows from before it is sent the history anew. The time
  // between rows is the monotonic clock's plus the time suspended (the sample's, by the boot
  // clock): a suspend is no step. A step forward is left as a gap: a VM paused with its host
  // asleep, whose boot clock stands still too, looks alike.
  // A step back as large as the last gap forward undoes it (a clock set ahead by a bad NTP
  // source, or by hand, then corrected): the rows from before the gap were on time and stay.
  // So does a step forward as large as the last step back (a clock set behind, then corrected):
  // every row moves back onto the clock, where the last hour would have lost all those before.
  let rebasedAtSeq = 0;
  let shiftedMs = 0;
  let lastClockMs: number | undefined;
  /** Time suspended, by the samples: counted in `elapsed` so a suspend is not a step forward. */
  let suspendedMs = 0;
  /** The newest gap forward: the first row after it, and how far the clock jumped. */
  let gap: { seq: number; ms: number } | undefined;
  /** How far the rows were moved at the newest step back that undid no gap. */
  let movedBackMs: number | undefined;
  // Within a second: the two readings of one step are each off by the timers' lateness.
  const sameStep = (a: number, b: number) => Math.abs(a - b) <= STEP_BACK_TOLERANCE_MS;
  const stepBackBy = (stepMs: number): void => {
    const undone = gap && sameStep(stepMs, gap.ms) ? gap : undefined;
    gap = undefined;
    history.shiftTimes(-stepMs, undone?.seq);
    // The start was read before any gap: on the rows' time unless they all moved.
    if (!undone) shiftedMs -= stepMs;
    movedBackMs = undone ? undefined : stepMs;
    rebasedAtSeq = history.seq;
  };
  /** A step forward of `stepMs`: a gap, unless it undoes the newest step back. */
  const stepForwardBy = (stepMs: number): void => {
    if (movedBackMs === undefined || !sameStep(stepMs, movedBackMs)) {
      gap = { seq: history.seq + 1, ms: stepMs };
      return;
    }
    // By the step back's own reading: the rows from before it go back where they were.
    history.shiftTimes(movedBackMs);
    shiftedMs += movedBackMs;
    movedBackMs = undefined;
    gap = undefined;
    rebasedAtSeq = history.seq;
  };
  /** The time of a new row at `wallMs`, the rows held moved first if the clock stepped back. */
  const rowTime = (wallMs: number, clockMs: number): number => {
    const prevTime = history.timeAt(history.seq);
    const elapsed = lastClockMs === undefined ? 0 : Math.max(0, clockMs - lastClockMs);
    lastClockMs = clockMs;
    if (prevTime === undefined) return wallMs;
    const stepBack = prevTime + elapsed - wallMs;
    if (-stepBack > STEP_BACK_TOLERANCE_MS) stepForwardBy(-stepBack);
    if (!(stepBack > STEP_BACK_TOLERANCE_MS)) {
      return Math.max(wallMs, history.timeAt(history.seq) ?? wallMs);
    }
    stepBackBy(stepBack);
    return Math.max(wallMs, history.timeAt(history.seq) ?? wallMs);
  };

  const onSample: SampleListener = (sample) => {
    const snap = options.meter.snapshot();
    suspendedMs += sample.suspendedMs;
    history.append(rowTime(now(), sample.nowMs + suspendedMs));
    const { host, process } = snap.totals;
    history.set('host_watts', host.watts);
    history.set('process_watts', process.watts);
    history.set('host_grams_per_second', host.gramsPerSecond);
    history.set('process_grams_per_second', process.gramsPerSecond);
    history.set('host_joules', host.joules);
    history.set('process_joules', process.joules);
    history.set('host_grams', host.grams);
    history.set('process_grams', process.grams);
    if (snap.grid.carbonIntensity !== null) history.set('intensity', snap.grid.carbonIntensity);
    for (const s of snap.power) {
      const key = powerKey(s.scope, s.component, s.source);
      if (!power.has(key) && power.size >= MAX_POWER_SERIES) continue;
      power.set(key, { key, ...pick(s) });
      history.set(key, s.watts);
    }
    requests.drainRates(sample.elapsedMs / 1000, (endpoint, perSecond) => {
      const key = endpointKey(endpoint);
      endpoints.set(key, endpoint);
      history.set(key, perSecond);
    });
  };
  const unsubscribe = options.meter.onSample(onSample);

  const lastHour = (snap: EnergySnapshot): DashboardData['lastHour'] => {
    // The grams are the newest sample's: the span ends there, not at the poll, which may come
    // up to an interval (a minute) later.
    const at = history.timeAt(history.seq) ?? now();
    const current = snap.totals.process.grams;
    let baseline = 0;
    let since = snap.startedAt ? Date.parse(snap.startedAt) + shiftedMs : at;
    const hourAgo = history.seqAtOrBefore(at - HOUR_MS);
    if (hourAgo !== undefined) {
      baseline = history.valueAt(hourAgo, 'process_grams') ?? 0;
      since = at - HOUR_MS;
    } else if (history.seq > history.capacity) {
      // History shorter than an hour and full: the oldest row is the best baseline there is.
      baseline = history.valueAt(history.oldestSeq, 'process_grams') ?? 0;
      since = history.timeAt(history.oldestSeq) ?? at;
    }
    const grams = Math.max(0, current - baseline);
    return {
      // To the ms: a first sample 118 ms after the start is no "0 ms".
      windowSeconds: Math.max(0, Math.round(at - since) / 1000),
      grams,
      estimated: snap.totals.process.estimated,
      carMetres: carMetres(grams),
      carGramsPerMetre: CAR_GRAMS_CO2_PER_METRE,
      equivalenceSource: CAR_EQUIVALENCE_SOURCE,
    };
  };

  const perSecond = (endpoint: string): number => {
    const key = endpointKey(endpoint);
    const from = history.seqAtOrBefore(now() - RATE_WINDOW_MS) ?? history.oldestSeq - 1;
    let sum = 0;
    let rows = 0;
    for (let seq = from + 1; seq <= history.seq; seq++) {
      sum += history.valueAt(seq, key) ?? 0;
      rows++;
    }
    return rows > 0 ? sum / rows : 0;
  };

  return {
    history,
    data(cursor: number, clientBoot?: string): DashboardData {
      const snap = options.meter.snapshot();
      const fresh =
        (clientBoot !== undefined && clientBoot !== boot) ||
        !(cursor > 0) ||
        cursor > history.seq ||
        // The rows it holds were moved since: their times changed.
        cursor <= rebasedAtSeq ||
        history.seq - cursor > MAX_ANSWER_ROWS;
      const slice = fresh
        ? history.downsampled(MAX_ANSWER_ROWS, RUNNING_TOTALS)
        : history.since(cursor);
      const reading = options.grid?.peek(snap.grid.zone);
      return {
        boot,
        reset: fresh || slice.truncated,
        seq: slice.seq,
        intervalMs: options.sampleIntervalMs,
        nextSampleInMs: nextSampleIn(snap, options.sampleIntervalMs, now()),
        capacity: history.capacity,
        memoryBytes: history.memoryBytes,
        times: slice.times,
        columns: slice.columns,
        runningTotals: [...RUNNING_TOTALS],
        power: [...power.values()],
        endpoints: [...endpoints].map(([key, endpoint]) => ({ key, endpoint })),
        energy: {
          samples: snap.samples,
          sampledAt: snap.sampledAt,
          startedAt: snap.startedAt,
          sources: snap.sources,
          totals: snap.totals,
          grid: {
            ...snap.grid,
            ageSeconds: reading?.ageSeconds ?? null,
            fetchedAt: reading?.fetchedAt ?? null,
            ...(reading?.note ? { note: reading.note } : {}),
          },
        },
        requests: requests.list().map((r) => ({ ...r, perSecond: perSecond(r.endpoint) })),
        answeredBeforeApp,
        recent: recent.list(),
        lastHour: lastHour(snap),
      };
    },
    close: () => {
      unsubscribe();
      unsubscribeSettled();
      unsubscribeEnded();
      unsubscribeEarly();
    },
  };
}

function nextSampleIn(snap: EnergySnapshot, intervalMs: number, nowMs: number): number {
  if (!snap.sampledAt) return intervalMs;
  const due = Date.parse(snap.sampledAt) + intervalMs - nowMs;
  // A meter that stopped or stalls: no point in timing polls to its samples.
  if (due < -intervalMs) return intervalMs;
  return Math.min(intervalMs, Math.max(0, due));
}

function pick(s: EnergySnapshot['power'][number]): Omit<PowerColumn, 'key'> {
  return { scope: s.scope, component: s.component, source: s.source, estimated: s.estimated };
}
