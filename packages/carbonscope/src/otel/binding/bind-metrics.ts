import type {
  Attributes,
  Histogram,
  Meter,
  Observable,
  ObservableCallback,
  ObservableResult,
} from '@opentelemetry/api';
import {
  type Component,
  type EarlyAnswer,
  type EmissionsFigure,
  type EndedRequest,
  type EnergySample,
  type EnergyTracker,
  type HttpRequestFacts,
  MAX_REQUESTS_ENDED_EARLY,
  type OperationAttributes,
  type OperationFootprint,
  type PowerFigure,
  type Scope,
} from '../../energy/index.js';
import { registerGridMetrics } from '../../grid/index.js';
import { GRPC_SERVER_ERRORS, GRPC_STATUS_NAMES } from '../../http/index.js';
import type { BoundedLabelSet } from '../../labels/index.js';
import {
  createInstrument,
  ESTIMATED,
  HOST_IDENTITY,
  METRICS,
  type MetricSpec,
  PHASE,
  PHASES,
} from '../../metrics/index.js';
import type { Carbonscope, DropCount } from '../../runtime/index.js';
import { currentHostIdentity } from './host-identity.js';
import {
  type HistogramSeries,
  type LocalHistograms,
  settleBeforeCollect,
} from './local-histograms.js';
import type { PushedBefore } from './pushed-before.js';

export interface BindMetricsOptions {
  /**
   * Also record `http.server.request.duration` for tracked requests. Off by default: a service
   * with the OTel HTTP instrumentation already has it.
   */
  http?: boolean;
  /**
   * Record histograms here instead of through the SDK's: no per-request attribute hashing.
   * Given when carbonscope built the readers (its own provider, the app); a provider joined
   * through the API alone gets the API's histograms.
   */
  histograms?: LocalHistograms;
  /**
   * Whether the process scope's figures are measurements now. While false, its energy, power
   * and emissions series are left out, not observed as 0: a backend would read a measured zero
   * (the CLI's command with too little CPU time to resolve). Measured by default.
   */
  processMeasured?: () => boolean;
  /**
   * Settle at each collection (a sample, if the last is 100 ms old): the collection then carries
   * the operations ended since, and the energy up to it. For a provider whose last collection
   * carbonscope is not told of (the application's, shut down before or without stop()).
   */
  settleAtCollection?: boolean;
  /**
   * The footprints settled before this binding, recorded first: register binds once it has
   * chosen where to export, at the first sample, which settles what ended before it.
   */
  settledBefore?: (record: (footprint: SettledFigures) => void) => void;
  /**
   * What another provider pushed of these figures (carbonscope's own, before the application's
   * SDK started): its counters observe their totals less these, or a collector, which adds
   * deltas up (and keeps the other provider's series at their last totals), counts them twice.
   */
  pushedBefore?: PushedBefore;
}

/** What the operation histograms record of a settled footprint. */
export type SettledFigures = Pick<
  OperationFootprint,
  'operation' | 'estimated' | 'attributes' | 'joules' | 'grams' | 'embodiedGrams'
>;

/** Where one histogram's values go for one attribute set: found once, then recorded into. */
export type Recorder = (value: number) => void;

/**
 * The semconv `hw.type` of each component carbonscope reads, and the `hw.id` it is reported
 * under. A RAPL package is the CPU socket with its uncore; `system` (RAPL psys, a platform
 * meter) is the whole machine and has no well-known type.
 */
const HARDWARE: Readonly<Record<Component, { type: string; id: string }>> = {
  cpu: { type: 'cpu', id: 'cpu' },
  package: { type: 'cpu', id: 'package' },
  dram: { type: 'memory', id: 'dram' },
  ram: { type: 'memory', id: 'ram' },
  gpu: { type: 'gpu', id: 'gpu' },
  system: { type: 'system', id: 'system' },
};

const SCOPES: readonly Scope[] = ['host', 'process'];

/** The `hw.id` of the host itself on hw.host.energy and hw.host.power. */
export const HOST_HW_ID = 'host';

/**
 * One histogram of a metric table: a recorder per attribute set, into carbonscope's local
 * histograms when given, else the SDK's. Callers keep the recorders they make: a recorder
 * found once records without hashing its attributes.
 */
export function histogramOf(
  meter: Meter,
  spec: MetricSpec & { kind: 'histogram' },
  local: LocalHistograms | undefined,
): (attributes: Attributes) => Recorder {
  const ownHistogram = local?.histogram(spec);
  let sdkHistogram: Histogram | undefined;
  return (attributes) => {
    if (ownHistogram) {
      const series: HistogramSeries = ownHistogram.seriesOf(attributes);
      return (value) => ownHistogram.record(series, value);
    }
    sdkHistogram ??= createInstrument(meter, spec);
    const histogram = sdkHistogram;
    return (value) => histogram.record(value, attributes);
  };
}

/** Where one operation's figures go: its energy, and its usage and embodied emissions. */
interface OperationSeries {
  readonly energy: Recorder;
  readonly usage: Recorder;
  readonly embodied: Recorder;
}

/** One operation's series measured and estimated, which share its embodied one. */
interface SeriesPair {
  measured?: OperationSeries;
  estimated?: OperationSeries;
  embodied: Recorder;
}
/** One operation's series per set of the application's attributes. */
type AttributedPairs = Map<OperationAttributes, SeriesPair>;

/**
 * The operation histograms per operation (of a bounded set) and per measured/estimated energy;
 * embodied emissions are one series per operation, always estimated. Each recorder is made
 * once, so recording allocates nothing and hashes nothing of ours; an operation costs one
 * label lookup and one map lookup for all three, or none when it repeats the last one.
 */
function operationRecorders(
  meter: Meter,
  local: LocalHistograms | undefined,
  operations: BoundedLabelSet,
): (
  operation: string,
  estimated: boolean,
  attributes: OperationAttributes | undefined,
) => OperationSeries {
  const energy = histogramOf(meter, METRICS.operationEnergy, local);
  const emissions = histogramOf(meter, METRICS.operationEmissions, local);
  // Per operation, its series without attributes (`plain`) and per set of the application's
  // (interned and bounded, so keyed by the set object): an operation whose every request has
  // attributes has no series without them, not one that counts nothing.
  const byOperation = new Map<string, { plain?: SeriesPair; attributed: AttributedPairs }>();
  // The last operation's series: a sample settles its operations in the order they ended, in
  // runs of one route, and a repeat costs two comparisons instead of three hash lookups.
  let lastOperation: string | undefined;
  let lastEstimated = false;
  let last: OperationSeries | undefined;
  // carbonscope's labels first, the order a scrape shows them in; the application's keys are
  // never carbonscope's (setAttributes refuses them). Made at first record only.
  const find = (
    operation: string,
    estimated: boolean,
    own: OperationAttributes | undefined,
  ): OperationSeries => {
    const label = operations.label(operation);
    let forOperation = byOperation.get(label);
    if (!forOperation) {
      forOperation = { attributed: new Map() };
      byOperation.set(label, forOperation);
    }
    let pair = own === undefined ? forOperation.plain : forOperation.attributed.get(own);
    if (!pair) {
      pair = {
        embodied: emissions({
          'carbonscope.operation': label,
          [PHASE]: PHASES.embodied,
          [ESTIMATED]: true,
          ...own,
        }),
      };
      if (own === undefined) forOperation.plain = pair;
      else forOperation.attributed.set(own, pair);
    }
    const key = estimated ? 'estimated' : 'measured';
    let series = pair[key];
    if (!series) {
      series = {
        energy: energy({ 'carbonscope.operation': label, [ESTIMATED]: estimated, ...own }),
        usage: emissions({
          'carbonscope.operation': label,
          [PHASE]: PHASES.usage,
          [ESTIMATED]: estimated,
          ...own,
        }),
        embodied: pair.embodied,
      };
      pair[key] = series;
    }
    return series;
  };
  return (operation, estimated, attributes) => {
    if (attributes !== undefined) return find(operation, estimated, attributes);
    if (last === undefined || operation !== lastOperation || estimated !== lastEstimated) {
      last = find(operation, estimated, undefined);
      lastOperation = operation;
      lastEstimated = estimated;
    }
    return last;
  };
}

/**
 * Creates carbonscope's instruments on `meter` and feeds them from the samples and ended
 * operations of `cs`: energy, power and emissions are observed from the latest immutable sample
 * at collection; operation histograms are recorded as operations end (into local histograms
 * when given). Returns the function that detaches them all (used when the instrumentation is
 * given another meter provider).
 */
export function bindMetrics(
  meter: Meter,
  cs: Carbonscope,
  options: BindMetricsOptions = {},
): () => void {
  const detach: Array<() => void> = [];
  const observe = (instrument: Observable, callback: ObservableCallback) => {
    instrument.addCallback(callback);
    detach.push(() => instrument.removeCallback(callback));
  };
  const pushed = options.pushedBefore;
  // A counter's totals, less what was pushed before; a gauge's values as they are.
  const observeSpec = (spec: MetricSpec, callback: ObservableCallback) => {
    const instrument = createInstrument(meter, spec) as Observable;
    if (!pushed || spec.kind !== 'observableCounter') return observe(instrument, callback);
    observe(instrument, (result) =>
      callback({
        observe: (value, attributes = {}) =>
          result.observe(value - pushed.sum(spec.name, attributes), attributes),
      }),
    );
  };
  const attributes = new SeriesAttributes(currentHostIdentity());
  // The first callback of a collection samples; the others find that sample fresh. The SDK
  // calls every callback before it reads its own histograms, so what is settled here is read
  // too; local histograms are a producer, read beside that, and settle themselves first.
  const settle = options.settleAtCollection ? () => cs.settleForCollection() : () => undefined;
  const latest = (): EnergySample | null => {
    settle();
    return cs.meter.latest();
  };
  const measured = options.processMeasured ?? (() => true);
  const shown = (scope: Scope) => scope === 'host' || measured();
  const figures = (scope: PowerFigure['scope']) =>
    shown(scope) ? (latest()?.power ?? []).filter((f) => f.scope === scope) : [];

  observeSpec(METRICS.hostEnergy, (result) => {
    for (const h of hostTotals(latest())) result.observe(h.joules, attributes.hostTotal(h));
  });
  observeSpec(METRICS.hostPower, (result) => {
    for (const h of hostTotals(latest())) result.observe(h.watts, attributes.hostTotal(h));
  });
  const byComponent = (value: 'joules' | 'watts', scope: PowerFigure['scope']) => {
    return (result: ObservableResult) => {
      for (const f of figures(scope)) result.observe(f[value], attributes.component(f));
    };
  };
  observeSpec(METRICS.energy, byComponent('joules', 'host'));
  observeSpec(METRICS.power, byComponent('watts', 'host'));
  observeSpec(METRICS.energyPartial, (result) => {
    for (const f of figures('host')) {
      result.observe(f.partialIntervals ?? 0, attributes.component(f));
    }
  });
  observeSpec(METRICS.processEnergy, byComponent('joules', 'process'));
  observeSpec(METRICS.processPower, byComponent('watts', 'process'));
  // Usage emissions per zone and measured/estimated; embodied per scope, always estimated,
  // with no zone (the grid does not make hardware). None when embodied emissions are left out.
  const byPhase = (
    usage: 'grams' | 'gramsPerSecond',
    embodied: 'embodiedGrams' | 'embodiedGramsPerSecond',
  ) => {
    return (result: ObservableResult) => {
      const sample = latest();
      for (const e of sample?.emissions ?? []) {
        if (shown(e.scope)) result.observe(e[usage], attributes.emissions(e));
      }
      if (!sample || !(sample.totals.host.embodiedGrams > 0)) return;
      for (const scope of SCOPES) {
        if (shown(scope))
          result.observe(sample.totals[scope][embodied], attributes.embodied(scope));
      }
    };
  };
  observeSpec(METRICS.emissions, byPhase('grams', 'embodiedGrams'));
  observeSpec(METRICS.emissionRate, byPhase('gramsPerSecond', 'embodiedGramsPerSecond'));
  if ('reportedZones' in cs.grid) {
    detach.push(registerGridMetrics(meter, cs.grid.defaultZone, cs.grid.reportedZones, cs.grid));
  }

  const local = options.histograms;
  if (local && options.settleAtCollection) detach.push(settleBeforeCollect(local, settle));
  // One set for operations and routes, the instance's: the same names, the same bound, in every
  // binding (one made later sees the names in another order) and in the snapshot.
  const operations = cs.operationNames;
  const seriesOf = operationRecorders(meter, local, operations);
  const recordHttp = options.http ? httpRecorder(meter, local, operations) : undefined;

  // Drops are counted by the Carbonscope as they happen; only read here, at collection.
  observeSpec(METRICS.operationDropped, (result) => {
    for (const d of cs.dropCounts()) result.observe(d.count, attributes.dropped(d));
  });

  // Energy is recorded settled; request counts and latency as requests end.
  const record = (footprint: SettledFigures) => {
    const series = seriesOf(footprint.operation, footprint.estimated, footprint.attributes);
    series.energy(footprint.joules);
    series.usage(footprint.grams);
    series.embodied(footprint.embodiedGrams);
  };
  options.settledBefore?.(record);
  detach.push(settledListener(cs, record));
  if (recordHttp) {
    replayEndedEarly(cs, recordHttp.request);
    detach.push(cs.onRequestEnd(recordHttp.request), cs.onEarlyAnswer(recordHttp.early));
  }
  // Local histograms keep what they counted, as the SDK's do: a provider shut down after this
  // (an application that disables the instrumentation first) still exports it.
  return () => {
    for (const off of detach.splice(0)) off();
  };
}

/**
 * `record` subscribed to the settled figures of `cs`: lent (onSettled), or where `cs` is of an
 * older copy of the package, which has none (the default instance is shared; one that predates
 * binderOf is bound with this copy's code), given each footprint by onEnd, as that copy did.
 * Without it the binding threw `cs.onSettled is not a function` and recorded no operation.
 */
function settledListener(cs: Carbonscope, record: (figures: SettledFigures) => void): () => void {
  const older = cs as Partial<Pick<Carbonscope, 'onSettled'>>;
  return typeof older.onSettled === 'function' ? cs.onSettled(record) : cs.onEnd(record);
}

/**
 * The requests that ended while the power sources were probed, before this binding listened
 * (the tracker kept them: see keepEarlyRequests), recorded first, as register records the
 * footprints settled before it binds (settledBefore); what was past the bound said in one line.
 * A tracker of an older copy of the package (the default instance is shared) keeps none.
 */
function replayEndedEarly(cs: Carbonscope, record: (request: EndedRequest) => void): void {
  const tracker = cs.tracker as Partial<Pick<EnergyTracker, 'replayRequestsEndedEarly'>>;
  if (typeof tracker.replayRequestsEndedEarly !== 'function') return;
  const dropped = tracker.replayRequestsEndedEarly(record);
  if (dropped > 0) cs.logger.warn(endedEarlyDroppedText(dropped));
}

/** The one line of replayEndedEarly for the requests past the bound. */
export function endedEarlyDroppedText(dropped: number): string {
  return `${dropped} HTTP requests that ended while the power sources were probed are not in http.server.request.duration (the first ${MAX_REQUESTS_ENDED_EARLY} are); their energy is counted`;
}

/** The host's energy and power from one power source: its host-scope figures summed. */
interface HostTotal {
  source: string;
  estimated: boolean;
  joules: number;
  watts: number;
}

/**
 * hw.host.* per power source: a GPU meter beside a CPU model stays two series, each measured or
 * estimated for good, and their sum is the host. Components never overlap within a source (RAPL
 * package and dram, or psys alone), so the sum counts nothing twice.
 */
function hostTotals(sample: EnergySample | null): HostTotal[] {
  const bySource = new Map<string, HostTotal>();
  for (const f of sample?.power ?? []) {
    if (f.scope !== 'host') continue;
    const total = bySource.get(f.source);
    if (total) {
      total.joules += f.joules;
      total.watts += f.watts;
    } else {
      bySource.set(f.source, {
        source: f.source,
        estimated: f.estimated,
        joules: f.joules,
        watts: f.watts,
      });
    }
  }
  return [...bySource.values()];
}

/** The attribute sets of the observed series, each made once and reused at every collection. */
class SeriesAttributes {
  private readonly made = new Map<string, Attributes>();
  /** On host-scope series only: the process's share is its own, never repeated by a replica. */
  private readonly host: Attributes;

  constructor(hostIdentity: string | undefined) {
    this.host = hostIdentity === undefined ? {} : { [HOST_IDENTITY]: hostIdentity };
  }

  private ofScope(scope: Scope): Attributes {
    return scope === 'host' ? this.host : {};
  }

  private of(key: string, make: () => Attributes): Attributes {
    let attributes = this.made.get(key);
    if (!attributes) {
      attributes = make();
      this.made.set(key, attributes);
    }
    return attributes;
  }

  hostTotal(h: HostTotal): Attributes {
    return this.of(`h|${h.source}`, () => ({
      'hw.id': HOST_HW_ID,
      'carbonscope.power.source': h.source,
      [ESTIMATED]: h.estimated,
      ...this.host,
    }));
  }

  component(f: PowerFigure): Attributes {
    return this.of(`c|${f.scope}|${f.component}|${f.source}`, () => ({
      'hw.type': HARDWARE[f.component].type,
      'hw.id': HARDWARE[f.component].id,
      'carbonscope.power.source': f.source,
      [ESTIMATED]: f.estimated,
      ...this.ofScope(f.scope),
    }));
  }

  emissions(e: EmissionsFigure): Attributes {
    return this.of(`e|${e.scope}|${e.zone}|${e.estimated}`, () => ({
      'carbonscope.scope': e.scope,
      'carbonscope.grid.zone': e.zone,
      [PHASE]: PHASES.usage,
      [ESTIMATED]: e.estimated,
      ...this.ofScope(e.scope),
    }));
  }

  dropped(d: DropCount): Attributes {
    return this.of(`d|${d.kind}|${d.reason}|${d.operation}`, () => ({
      'carbonscope.operation': d.operation,
      'carbonscope.operation_kind': d.kind,
      'carbonscope.drop_reason': d.reason,
    }));
  }

  embodied(scope: Scope): Attributes {
    return this.of(`m|${scope}`, () => ({
      'carbonscope.scope': scope,
      [PHASE]: PHASES.embodied,
      [ESTIMATED]: true,
      ...this.ofScope(scope),
    }));
  }
}

/**
 * `http.server.request.duration{http.route, http.request.method, http.response.status_code,
 * url.scheme, error.type}` from ended requests; its `_count` is the request count. Every
 * label is bounded: routes are the operations' bounded set, methods a fixed list or `_OTHER`,
 * schemes two, and a status is a number Node accepted (100-999). Each attribute set's recorder
 * is made once; a request then costs three map lookups, or none when it repeats the last one's.
 * An answer given before any request (`early`) goes to the same histogram with no route.
 */
function httpRecorder(
  meter: Meter,
  local: LocalHistograms | undefined,
  routes: BoundedLabelSet,
): { request: (request: EndedRequest) => void; early: (answer: EarlyAnswer) => void } {
  const make = histogramOf(meter, METRICS.httpDuration, local);
  const byAnswer = new Map<string, Recorder>();
  // Rare (what a parser rejects), so a key string is fine here, where a request's is not.
  const early = (answer: EarlyAnswer) => {
    const { status, http } = answer;
    const key = `${status} ${http.method} ${http.scheme}`;
    let recorder = byAnswer.get(key);
    if (!recorder) {
      recorder = make(httpAttributes(undefined, status, http));
      byAnswer.set(key, recorder);
    }
    recorder(answer.seconds);
  };
  const byRoute = new Map<string, Map<number, Map<HttpRequestFacts | undefined, Recorder>>>();
  const find = (name: string, status: number | undefined, http: HttpRequestFacts | undefined) => {
    const route = routes.label(name);
    let byStatus = byRoute.get(route);
    if (!byStatus) {
      byStatus = new Map();
      byRoute.set(route, byStatus);
    }
    let byFacts = byStatus.get(status ?? 0);
    if (!byFacts) {
      byFacts = new Map();
      byStatus.set(status ?? 0, byFacts);
    }
    let recorder = byFacts.get(http);
    if (!recorder) {
      recorder = make(httpAttributes(route, status, http));
      byFacts.set(http, recorder);
    }
    return recorder;
  };
  // The last request's series: requests come in runs of one route and status, and a repeat
  // costs three comparisons instead of a label lookup and three map lookups.
  let lastName: string | undefined;
  let lastStatus: number | undefined;
  let lastHttp: HttpRequestFacts | undefined;
  let last: Recorder | undefined;
  const ended = (request: EndedRequest) => {
    const { name, status, http } = request;
    if (last === undefined || name !== lastName || status !== lastStatus || http !== lastHttp) {
      last = find(name, status, http);
      lastName = name;
      lastStatus = status;
      lastHttp = http;
    }
    last((request.endMs - request.startMs) / 1000);
  };
  return { request: ended, early };
}

/**
 * As the semantic conventions say: a route only where there is one (an answer given before any
 * request has none); a status only when one was sent; error.type for a 5xx (its status), and
 * `_OTHER`, their fallback, for a request that ended before any status was sent (its client went
 * away). A gRPC call, whose HTTP status is 200 whatever its outcome, has its gRPC status too, as
 * the RPC conventions name it, and error.type where their gRPC server conventions count it a
 * failure (INTERNAL, UNAVAILABLE…; not NOT_FOUND and the others a client causes): a call its
 * client cancelled (CANCELLED, no HTTP status) is no failure of the server's either.
 */
function httpAttributes(
  route: string | undefined,
  status: number | undefined,
  facts: HttpRequestFacts | undefined,
): Attributes {
  // The route first, where there is one: the order the labels are exposed in.
  const attributes: Attributes = route === undefined ? {} : { 'http.route': route };
  attributes['http.request.method'] = facts?.method ?? '_OTHER';
  attributes['url.scheme'] = facts?.scheme ?? 'http';
  if (status) attributes['http.response.status_code'] = status;
  const grpcStatus = facts?.grpcStatus;
  if (grpcStatus !== undefined) {
    attributes['rpc.status_code'] = GRPC_STATUS_NAMES[grpcStatus];
  }
  if (status !== undefined && status >= 500) attributes['error.type'] = String(status);
  else if (grpcStatus !== undefined) {
    // A call its client cut short has the status the client saw, and no HTTP status.
    if (GRPC_SERVER_ERRORS.has(grpcStatus))
      attributes['error.type'] = GRPC_STATUS_NAMES[grpcStatus];
  } else if (!status) attributes['error.type'] = '_OTHER';
  return attributes;
}
