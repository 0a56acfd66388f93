/**
 * `npm run bench`: what carbonscope costs and how much load it holds, measured on this machine.
 *   - overhead: the app without carbonscope vs the carbonscope app as shipped, each also with
 *     OTel tracing on (so OTel's own cost and carbonscope's additions are told apart); the app
 *     vs a minimal Koa app serving the same cached JSON; an Express hello world with and
 *     without `--import carbonscope/register`; autocannon against each in alternating rounds,
 *     a second identical baseline beside the app's and Express's (the noise floor of the delta);
 *   - /predict throughput and latency at a fixed concurrency;
 *   - /metrics scrape time with every instrument populated;
 *   - the meter's own costs (test/bench/meter.bench.ts) and carbonscope's per-request path
 *     in-process (test/bench/request-path.bench.ts), which shared machines cannot blur;
 *   - a scrape of the operation histograms made exponential against explicit, in-process
 *     (test/bench/exposition.bench.ts);
 *   - CodeCarbon side by side (test/bench/codecarbon.ts): a Python server bare, with
 *     @track_emissions and with the task API, beside an Express app bare and with carbonscope;
 *   - whether each request's energy follows its CPU (test/bench/attribution.bench.ts);
 *   - start-up to ready, resident memory at idle and after the load.
 * Prints one table and writes it to bench-results/ as JSON and Markdown.
 * Flags: --quick (short runs, to check the harness), --strict (exit 1 when a budget is missed),
 * --cpu-prof (the carbonscope servers write .cpuprofile files to bench-results/profiles/).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { findSample } from '#library-tests/helpers/metrics.js';
import { projectRoot } from '../../src/paths.js';
import { freePort, freePorts } from '../helpers/spawn-server.js';
import { allowedCpus, type CpuSplit, cpuSplit, pin } from './affinity.js';
import { FULL_PLAN, QUICK_PLAN, runAttribution } from './attribution.bench.js';
import { codecarbonSideBySide } from './codecarbon.js';
import { fmt, fmtInt } from './format.js';
import { settledRss } from './idle-rss.js';
import { type LoadRequest, median, percentile, sleep } from './load.js';
import { type OwnCodePlan, ownCodeCost } from './own-code.js';
import { addedWithin, type Resolved, ratioWithin } from './resolved.js';
import {
  addedInRounds,
  addedPercent,
  alternatingRounds,
  medianCpu,
  type RoundResult,
  type RoundsOutcome,
} from './rounds.js';
import {
  bare,
  carbonscope,
  cpuSeconds,
  express,
  minimalKoa,
  type RunningServer,
  rssMiB,
  STEADY_V8_ARGS,
  type StartOptions,
  scrape,
  seriesOf,
  startServer,
} from './servers.js';
import { type SimultaneousPlan, simultaneousRounds } from './simultaneous-rounds.js';
import { startTraceSink, type TraceSink } from './trace-sink.js';
import { ACTIVITIES, chatModels, everyRequest, sendEach } from './traffic-mix.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const STRICT = args.has('--strict');
const CPU_PROF = args.has('--cpu-prof');

const PLAN = QUICK
  ? {
      startups: 1,
      warmupSeconds: 1,
      rounds: 2,
      seconds: 2,
      scrapes: 30,
      settleScrapes: 100,
      meterOps: 50_000,
      expositionRounds: 2,
    }
  : {
      startups: 3,
      warmupSeconds: 3,
      rounds: 5,
      seconds: 8,
      scrapes: 200,
      settleScrapes: 1500,
      meterOps: 500_000,
      expositionRounds: 7,
    };
const CONNECTIONS = 20;
/**
 * Idle servers are read every second for 30 s after the last one started (idle-rss.ts): long
 * enough for V8's memory reducer to have run in each (16 s after start in the carbonscope app).
 */
const IDLE_WINDOW = QUICK ? { windowMs: 3000, everyMs: 1000 } : { windowMs: 30_000, everyMs: 1000 };

const BUDGET = {
  /** carbonscope's own CPU per request, on the cheapest route (issue: nearly free). */
  addedCpuMicros: 3,
  /** Throughput of the same app with carbonscope against without it, cheapest route. */
  overheadRatio: 0.95,
  /** The carbonscope app against a minimal Koa app serving the same cached JSON. */
  minimalKoaRatio: 0.85,
  /** Idle RSS of the carbonscope app against the app without it. */
  idleRssRatio: 1.2,
  predictRps: 2000,
  scrapeCpuMs: 5,
  readyMs: 2000,
};

const RESULTS_DIR = join(projectRoot, 'bench-results');
const PROFILE_DIR = join(RESULTS_DIR, 'profiles');

type Verdict = 'pass' | 'FAIL' | '';

interface Row {
  group: string;
  measure: string;
  value: string;
  budget: string;
  verdict: Verdict;
}

const rows: Row[] = [];
const raw: Record<string, unknown> = {};

function row(group: string, measure: string, value: string, budget = '', verdict: Verdict = '') {
  rows.push({ group, measure, value, budget, verdict });
}

const check = (ok: boolean): Verdict => (ok ? 'pass' : 'FAIL');

/** Not measured is a failure to see, never a row quietly left out: a FAIL row and a log line. */
function notMeasured(group: string, measure: string, err: unknown): void {
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  log(`${group}: ${measure} not measured: ${message}`);
  row(group, measure, `not measured: ${message}`, 'measured', 'FAIL');
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function withProfile(options: StartOptions): StartOptions {
  if (!CPU_PROF) return options;
  return { ...options, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] };
}

// --- start-up ------------------------------------------------------------------------------

async function readyTimes(options: StartOptions): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < PLAN.startups; i++) {
    const server = await startServer(options);
    times.push(server.readyMs);
    await server.stop();
  }
  return times;
}

async function startup(): Promise<void> {
  const times = await readyTimes(carbonscope('startup', true));
  // The first sample comes one interval after the meter starts; a short interval shows how
  // much of the start-up is that wait and how much is loading.
  const shortInterval = await readyTimes(
    carbonscope('startup-250ms', true, { ENERGY_SAMPLE_INTERVAL_MS: '250' }),
  );
  raw.startupMs = { default: times, sampleInterval250ms: shortInterval };
  const ms = median(times);
  row(
    'start-up',
    `spawn to /readyz 200 (model loaded, first sample), default config, median of ${times.length}`,
    `${fmt(ms)} ms`,
    `< ${BUDGET.readyMs} ms`,
    check(ms < BUDGET.readyMs),
  );
  row(
    'start-up',
    'the same with ENERGY_SAMPLE_INTERVAL_MS=250 (first sample sooner)',
    `${fmt(median(shortInterval))} ms`,
  );
}

// --- overhead ------------------------------------------------------------------------------

interface Variant {
  key: string;
  label: string;
  options: StartOptions;
  server?: RunningServer;
  idleRss?: number;
}

/** Tracing on, every path traced: the traced rows measure `/healthz`, a probe path. */
function tracingEnv(sink: TraceSink, key: string): Record<string, string> {
  return {
    TRACE_IGNORED_PATHS: 'none',
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.endpoint(key),
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  };
}

function variants(sink: TraceSink, metricsPort: number): Variant[] {
  return [
    { key: 'bare', label: 'app without carbonscope', options: bare('bare') },
    {
      key: 'bareAgain',
      label: 'app without carbonscope, a second identical server',
      options: bare('bare-again'),
    },
    {
      key: 'default',
      label: 'carbonscope app, default config',
      options: withProfile(carbonscope('default', false)),
    },
    {
      key: 'bareTracing',
      label: 'app without carbonscope + OTel tracing',
      options: bare('bare-tracing', tracingEnv(sink, 'bareTracing')),
    },
    {
      key: 'bareTracingAgain',
      label: 'app without carbonscope + OTel tracing, a second identical server',
      options: bare('bare-tracing-again', tracingEnv(sink, 'bareTracingAgain')),
    },
    {
      key: 'tracing',
      label: 'carbonscope app + OTel tracing',
      options: withProfile(carbonscope('tracing', true, tracingEnv(sink, 'tracing'))),
    },
    { key: 'minimalKoa', label: 'minimal Koa app (cached JSON)', options: minimalKoa('minimal') },
    { key: 'express', label: 'Express hello world', options: express('express') },
    {
      key: 'expressAgain',
      label: 'Express hello world, a second identical server',
      options: express('express-again'),
    },
    {
      key: 'expressCarbonscope',
      label: 'Express hello world + --import carbonscope/register',
      options: express('express-carbonscope', metricsPort),
    },
  ];
}

const PREDICT_REQUESTS: LoadRequest[] = ACTIVITIES.map((activity) => ({
  method: 'POST',
  path: '/predict',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ activity }),
}));
const INTENSITY_REQUESTS: LoadRequest[] = [
  { path: '/carbon_intensity', headers: { accept: 'application/json' } },
];

/**
 * What each comparison loads, on which variants; the first variant is the baseline. Every
 * variant of a comparison serves the same requests the same way.
 */
const COMPARISONS: Array<{ name: string; keys: string[]; requests: LoadRequest[] }> = [
  {
    name: 'GET /healthz',
    keys: ['bare', 'default', 'bareTracing', 'tracing', 'bareAgain', 'bareTracingAgain'],
    requests: [{ path: '/healthz' }],
  },
  {
    name: 'POST /predict',
    keys: ['bare', 'default', 'bareTracing', 'tracing'],
    requests: PREDICT_REQUESTS,
  },
  {
    name: 'GET /carbon_intensity',
    keys: ['minimalKoa', 'bare', 'default'],
    requests: INTENSITY_REQUESTS,
  },
  {
    name: 'Express GET /hello',
    keys: ['express', 'expressCarbonscope', 'expressAgain'],
    requests: [{ path: '/hello' }],
  },
];

type Measured = RoundResult;

/** The group's servers in alternating rounds under the same requests (rounds.ts). */
async function compare(
  name: string,
  group: Variant[],
  requests: LoadRequest[],
): Promise<RoundsOutcome> {
  const contenders = group.map((v) => {
    const server = v.server as RunningServer;
    return { key: v.key, label: v.label, url: server.url, pid: server.pid, requests };
  });
  const { warmupSeconds, rounds, seconds } = PLAN;
  const plan = { warmupSeconds, rounds, seconds, connections: CONNECTIONS };
  return alternatingRounds(contenders, plan, (m) => log(`${name} ${m}`));
}

/** Each round's runs are back to back, so a per-round ratio cancels most machine noise. */
const ratioOf = (runs: Measured[], base: Measured[]) =>
  median(runs.map((r, i) => r.requestsPerSecond / base[i].requestsPerSecond));

function variantRows(name: string, group: Variant[], results: Map<string, Measured[]>): void {
  for (const v of group) {
    const runs = results.get(v.key) ?? [];
    row(
      `overhead ${name}`,
      `${v.label}: req/s, p99, server CPU per request`,
      `${fmtInt(median(runs.map((r) => r.requestsPerSecond)))} req/s, p99 ${fmt(median(runs.map((r) => r.p99Ms)), 1)} ms, ${fmt(medianCpu(runs), 1)} µs CPU`,
    );
  }
}

/** A second, identical baseline measured in the same rounds: what noise alone makes of a delta. */
interface NoiseFloor {
  addedMicros: number;
  ratio: number;
}

/** CPU added per request: each one's median over its rounds, the one less the other. */
const addedAcross = (subject: Measured[], base: Measured[]) => medianCpu(subject) - medianCpu(base);
type AddedOf = typeof addedAcross;

/** A second identical base against the first, in the same simultaneous rounds. */
function floorOf(again: Measured[], base: Measured[]): NoiseFloor {
  return { addedMicros: addedInRounds(again, base), ratio: ratioOf(again, base) };
}

// Unresolved: the floor, or the figure on the side nothing real reaches, is beyond the budget.
const unresolved = (r: Resolved, floor: string | undefined) => {
  if (r.resolved) return '';
  return floor === undefined
    ? ', not resolved (beyond the budget on the side nothing real reaches: noise)'
    : `, not resolved (noise floor here ${floor}; beyond the budget, noise)`;
};

interface Budget {
  cpuMicros?: number;
  ratio?: number;
}

/**
 * `subject` against `base`: the CPU it adds per request and its throughput ratio, with the
 * budgets where this comparison carries them, each a pass only when `floor` (if measured) is
 * within it.
 */
function deltaRows(
  name: string,
  label: string,
  subject: Measured[],
  base: Measured[],
  budget: Budget = {},
  floor?: NoiseFloor,
  addedOf: AddedOf = addedAcross,
): void {
  const added = addedOf(subject, base);
  const cpu =
    budget.cpuMicros === undefined
      ? undefined
      : addedWithin(added, budget.cpuMicros, floor?.addedMicros);
  row(
    `overhead ${name}`,
    `${label}: CPU added per request`,
    `${fmt(added, 1)} µs (${fmt(addedPercent(added, base), 0)} %)${cpu ? unresolved(cpu, floor && `${fmt(floor.addedMicros, 1)} µs`) : ''}`,
    budget.cpuMicros === undefined ? '' : `<= ${budget.cpuMicros} µs${floor ? ', resolved' : ''}`,
    cpu ? check(cpu.ok) : '',
  );
  const ratio = ratioOf(subject, base);
  const share =
    budget.ratio === undefined ? undefined : ratioWithin(ratio, budget.ratio, floor?.ratio);
  row(
    `overhead ${name}`,
    `${label}: throughput ratio (median of per-round ratios)`,
    `${fmt(ratio * 100, 1)} %${share ? unresolved(share, floor && `${fmt(floor.ratio * 100, 1)} %`) : ''}`,
    budget.ratio === undefined ? '' : `>= ${budget.ratio * 100} %${floor ? ', resolved' : ''}`,
    share ? check(share.ok) : '',
  );
}

function overheadRows(name: string, group: Variant[], results: Map<string, Measured[]>): void {
  variantRows(name, group, results);
  const runs = (key: string) => results.get(key) ?? [];
  // No budget here: the simultaneous rounds below carry them (alternating rounds read two
  // identical servers tens of percent apart from one round to the next on this machine).
  if (results.has('default') && results.has('bare')) {
    deltaRows(
      name,
      "carbonscope's own cost (default config vs the app without it)",
      runs('default'),
      runs('bare'),
    );
  }
  if (results.has('bareTracing')) {
    deltaRows(
      name,
      "OTel tracing's own cost (the app without carbonscope, traced vs not)",
      runs('bareTracing'),
      runs('bare'),
    );
    deltaRows(
      name,
      "carbonscope's additions with tracing on",
      runs('tracing'),
      runs('bareTracing'),
    );
  }
  if (results.has('minimalKoa')) {
    deltaRows(
      name,
      'carbonscope app (default) vs a minimal Koa app serving the same JSON',
      runs('default'),
      runs('minimalKoa'),
    );
  }
  if (results.has('expressCarbonscope')) {
    deltaRows(
      name,
      'Express + --import carbonscope/register vs Express alone',
      runs('expressCarbonscope'),
      runs('express'),
    );
  }
  if (results.has('bareAgain')) {
    // As for Express below: two identical app servers, what noise alone makes of the delta.
    deltaRows(
      name,
      'noise floor: a second identical app without carbonscope vs the first',
      runs('bareAgain'),
      runs('bare'),
    );
  }
  if (results.has('bareTracingAgain')) {
    deltaRows(
      name,
      'noise floor, traced: a second identical traced app without carbonscope vs the first',
      runs('bareTracingAgain'),
      runs('bareTracing'),
    );
  }
  if (results.has('expressAgain')) {
    // Two identical servers measured the same way: what this machine's noise alone makes of
    // "CPU added per request" in this run, to read the row above against.
    deltaRows(
      name,
      'noise floor: a second identical Express vs the first',
      runs('expressAgain'),
      runs('express'),
    );
  }
}

/** The variants the traced comparison sets side by side. */
const TRACED = ['bareTracing', 'tracing', 'bareTracingAgain'] as const;
/** Enough for every span of the last round to be exported (batches go every 5 s; a hold, 1 s). */
const SPANS_EXPORTED_MS = 8000;

/**
 * Whether the traced variants exported every span they made on `/healthz` (their spans per
 * response alike): a variant that dropped some (its SDK's queue full) did less work, and the
 * CPU it adds over the other says nothing. Before its spans were paced, the carbonscope app's
 * traced /healthz read 7 µs cheaper than the app without it.
 */
async function spanRows(
  sink: TraceSink,
  before: readonly number[],
  answered: ReadonlyMap<string, number>,
  group = 'overhead GET /healthz',
): Promise<Record<string, number>> {
  await sleep(SPANS_EXPORTED_MS);
  const perResponse = TRACED.map(
    (key, i) => (sink.spans(key) - before[i]) / (answered.get(key) ?? Number.NaN),
  );
  const [bareSpans] = perResponse;
  row(
    group,
    'spans exported per response, traced: the app without carbonscope; the carbonscope app; the second app without it',
    perResponse.map((n) => fmt(n, 3)).join('; '),
    'alike (± 1 %): no span dropped',
    check(perResponse.every((n) => Math.abs(n / bareSpans - 1) <= 0.01)),
  );
  return Object.fromEntries(TRACED.map((key, i) => [key, perResponse[i]]));
}

function predictRows(results: Map<string, Measured[]>): void {
  const runs = results.get('default') ?? [];
  const rps = median(runs.map((r) => r.requestsPerSecond));
  row(
    '/predict',
    `POST /predict, default config, ${CONNECTIONS} connections: req/s`,
    `${fmtInt(rps)} req/s`,
    `>= ${fmtInt(BUDGET.predictRps)} req/s`,
    check(rps >= BUDGET.predictRps),
  );
  row(
    '/predict',
    'latency p50 / p99 (median over rounds)',
    `${fmt(median(runs.map((r) => r.p50Ms)), 1)} ms / ${fmt(median(runs.map((r) => r.p99Ms)), 1)} ms`,
  );
}

// --- the same comparisons, at the same time ------------------------------------------------

/**
 * Fresh servers sharing a CPU: each gets a third of it, and V8 optimizes a function after so
 * many calls, not so much time. After a 1 s warm-up the traced app without carbonscope read 663
 * µs per request in the second round, against 165–199 µs in the alternating rounds of that run.
 */
const SIMULTANEOUS: SimultaneousPlan = QUICK
  ? { warmupSeconds: 3, rounds: 2, seconds: 2, connections: 10 }
  : { warmupSeconds: 15, rounds: 9, seconds: 6, connections: 10 };

/** A subject against the base: its label, its budget, the second base that is its floor. */
interface Delta {
  subject: string;
  label: string;
  budget?: Budget;
  floor?: string;
}

interface SideBySide {
  name: string;
  /** The variants measured together; the first is the base of every delta. */
  keys: string[];
  requests: LoadRequest[];
  deltas: Delta[];
}

/** `subject` with its budget beside `floor`, a second identical base, and the floor's own row. */
function withFloor(
  subject: string,
  label: string,
  budget: Budget,
  floor: string,
  floorLabel: string,
): Delta[] {
  return [
    { subject, label, budget, floor },
    { subject: floor, label: `noise floor: ${floorLabel}` },
  ];
}

/**
 * Each group's servers (fresh, with STEADY_V8_ARGS) measured side by side on one CPU: the
 * budgets are checked here, the floor being a second identical base in the same rounds.
 */
const SIDE_BY_SIDE: SideBySide[] = [
  {
    name: 'GET /healthz',
    keys: ['bare', 'default', 'bareAgain'],
    requests: [{ path: '/healthz' }],
    deltas: withFloor(
      'default',
      "carbonscope's own cost (default config vs the app without it)",
      { cpuMicros: BUDGET.addedCpuMicros, ratio: BUDGET.overheadRatio },
      'bareAgain',
      'a second identical app without carbonscope',
    ),
  },
  {
    name: 'GET /healthz, traced',
    keys: ['bareTracing', 'tracing', 'bareTracingAgain'],
    requests: [{ path: '/healthz' }],
    deltas: withFloor(
      'tracing',
      "carbonscope's additions with tracing on",
      { cpuMicros: BUDGET.addedCpuMicros },
      'bareTracingAgain',
      'a second identical traced app without carbonscope',
    ),
  },
  {
    name: 'POST /predict',
    keys: ['bare', 'default'],
    requests: PREDICT_REQUESTS,
    deltas: [
      {
        subject: 'default',
        label: "carbonscope's own cost (default config vs the app without it)",
      },
    ],
  },
  {
    name: 'GET /carbon_intensity',
    keys: ['minimalKoa', 'default', 'bare'],
    requests: INTENSITY_REQUESTS,
    deltas: [
      {
        subject: 'default',
        label: 'carbonscope app (default) vs a minimal Koa app serving the same JSON',
        budget: { ratio: BUDGET.minimalKoaRatio },
      },
      { subject: 'bare', label: 'the app without carbonscope vs the minimal Koa app' },
    ],
  },
  {
    name: 'Express GET /hello',
    keys: ['express', 'expressCarbonscope', 'expressAgain'],
    requests: [{ path: '/hello' }],
    deltas: withFloor(
      'expressCarbonscope',
      'Express + --import carbonscope/register vs Express alone',
      { cpuMicros: BUDGET.addedCpuMicros, ratio: BUDGET.overheadRatio },
      'expressAgain',
      'a second identical Express',
    ),
  },
];

async function sideBySide(
  group: SideBySide,
  split: CpuSplit,
  sink: TraceSink,
): Promise<Map<string, Measured[]>> {
  const all = variants(sink, await freePort());
  const servers: RunningServer[] = [];
  const chosen = group.keys.map((key) => {
    const variant = all.find((v) => v.key === key);
    if (!variant) throw new Error(`${group.name}: no variant '${key}'`);
    return variant;
  });
  try {
    for (const { options } of chosen) {
      const server = await startServer({
        ...options,
        name: `${options.name}-side-by-side`,
        nodeArgs: [...STEADY_V8_ARGS, ...(options.nodeArgs ?? [])],
      });
      servers.push(server);
      pin(server.pid, split.servers);
    }
    const contenders = chosen.map(({ key, label }, i) => {
      const { url, pid } = servers[i];
      return { key, label, url, pid, requests: group.requests };
    });
    const traced = group.keys.some((key) => (TRACED as readonly string[]).includes(key));
    const spansBefore = TRACED.map((key) => sink.spans(key));
    const { runs, answered } = await simultaneousRounds(contenders, SIMULTANEOUS, (m) =>
      log(`${group.name}, simultaneous ${m}`),
    );
    if (traced) {
      // As in the alternating rounds: a traced server that dropped spans did less work.
      const rowGroup = `overhead simultaneous ${group.name}`;
      raw.simultaneousSpansPerResponse = await spanRows(sink, spansBefore, answered, rowGroup);
    }
    return runs;
  } finally {
    for (const server of servers) await server.stop();
  }
}

function sideBySideRows(group: SideBySide, runs: Map<string, Measured[]>): void {
  const of = (key: string) => runs.get(key) ?? [];
  const [base] = group.keys;
  for (const d of group.deltas) {
    deltaRows(
      `simultaneous ${group.name}`,
      d.label,
      of(d.subject),
      of(base),
      d.budget,
      d.floor ? floorOf(of(d.floor), of(base)) : undefined,
      addedInRounds,
    );
  }
}

/**
 * The overhead comparisons again, each group's servers under load at the same moments on one
 * CPU, this process (the load) on the others: what carbonscope adds, with its budgets.
 */
async function simultaneousOverhead(sink: TraceSink): Promise<void> {
  // Given back as they were: the bench may itself have been started on some CPUs only.
  const own = allowedCpus(process.pid);
  const split = cpuSplit(own);
  if (!split) {
    const why = own ? `one CPU allowed (${own}): nothing to split` : 'no CPU list in /proc';
    notMeasured('simultaneous', 'side by side on one CPU', new Error(why));
    return;
  }
  const results: Record<string, Record<string, Measured[]>> = {};
  try {
    pin(process.pid, split.load);
    for (const group of SIDE_BY_SIDE) {
      const runs = await sideBySide(group, split, sink);
      results[group.name] = Object.fromEntries(runs);
      sideBySideRows(group, runs);
    }
  } catch (err) {
    notMeasured('simultaneous', 'side by side on one CPU', err);
  } finally {
    try {
      if (own) pin(process.pid, own);
    } catch {
      // taskset missing: nothing was pinned
    }
  }
  raw.simultaneous = { plan: SIMULTANEOUS, results };
}

// --- /metrics scrape -----------------------------------------------------------------------

interface Scrapes {
  timesMs: number[];
  /** The server's CPU (collection, serialization, the write) per scrape, in ms. */
  cpuMs: number;
  text: string;
}

/**
 * Scrapes back to back. The server's CPU is apart from the client's own share of the round
 * trip (undici parsing ~230 KB is about as much again).
 */
async function timedScrapes(server: RunningServer, count: number): Promise<Scrapes> {
  const timesMs: number[] = [];
  let text = '';
  const cpu0 = cpuSeconds(server.pid);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    text = await scrape(server.url);
    timesMs.push(performance.now() - t0);
  }
  return { timesMs, cpuMs: ((cpuSeconds(server.pid) - cpu0) * 1e3) / count, text };
}

/** Untimed scrapes before any are timed: each scrape path's first calls. */
const FIRST_CALL_SCRAPES = 10;

async function scrapeTime(server: RunningServer): Promise<void> {
  const models = await chatModels(server.url);
  const statuses = await sendEach(server.url, everyRequest(models));
  // Let the meter take a sample so every energy and emissions series exists.
  await sleep(1500);
  // Past the first calls' compilation, then a process's first scrapes: the code that runs only
  // for a scrape (collection, the SDK's aggregation, the serializer) is still being optimized
  // by V8 for hundreds of scrapes (under --trace-opt, 1.4-1.6 ms of compilation per scrape over
  // the first 200, ~0.6 over the next 1,000). That cost is real but paid once per process,
  // over its first hours at a 15 s scrape interval: reported apart; the budget is for the
  // scrapes after it.
  for (let i = 0; i < FIRST_CALL_SCRAPES; i++) await scrape(server.url);
  const first = await timedScrapes(server, PLAN.scrapes);
  for (let i = 0; i < PLAN.settleScrapes; i++) await scrape(server.url);
  const { timesMs: times, cpuMs, text } = await timedScrapes(server, PLAN.scrapes);
  const series = seriesOf(text);
  const names = new Set(series.map((s) => s.replace(/[{ ].*$/, '')));
  const ms = median(times);
  raw.scrape = {
    statusesOfPopulate: [...new Set(statuses)].sort(),
    timesMs: times,
    serverCpuMsPerScrape: cpuMs,
    firstScrapes: { timesMs: first.timesMs, serverCpuMsPerScrape: first.cpuMs },
    series: series.length,
    bytes: text.length,
  };
  row(
    '/metrics',
    `server CPU per scrape, ${times.length} scrapes after ${fmtInt(FIRST_CALL_SCRAPES + PLAN.scrapes + PLAN.settleScrapes)} (${series.length} series, ${names.size} names, ${fmtInt(text.length)} B)`,
    `${fmt(cpuMs, 2)} ms`,
    `< ${BUDGET.scrapeCpuMs} ms`,
    check(cpuMs < BUDGET.scrapeCpuMs),
  );
  row(
    '/metrics',
    `server CPU per scrape over its first ${first.timesMs.length} after ${FIRST_CALL_SCRAPES} (V8 still optimizing the scrape's code)`,
    `${fmt(first.cpuMs, 2)} ms`,
  );
  row(
    '/metrics',
    'scrape time at the client, median / p99 (loopback round trip included)',
    `${fmt(ms, 2)} ms / ${fmt(percentile(times, 99), 2)} ms`,
  );
}

// --- the meter's own benchmark -------------------------------------------------------------

async function meterCosts(): Promise<void> {
  const script = join(projectRoot, 'dist', 'test', 'bench', 'meter.bench.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    env: {
      ...process.env,
      BENCH_OPS: String(PLAN.meterOps),
      BENCH_SAMPLES: String(PLAN.meterOps / 50),
    },
    timeout: 300_000,
  });
  raw.meterBench = stdout.trim().split('\n');
  for (const line of stdout.split('\n')) {
    const track = /^track\(\) \[(.+?)\]: (-?\d+) ns added per operation \(track (\d+) ns/.exec(
      line,
    );
    if (track) {
      row('meter', `track() added cost, ${track[1]}`, `${track[2]} ns (track ${track[3]} ns)`);
    }
    const attribution =
      /^attribution \[(.+?)\]: (-?\d+) ns added per operation of (\d+) awaits/.exec(line);
    if (attribution) {
      row(
        'meter',
        `ENERGY_OPERATION_ATTRIBUTION=${attribution[1]}: added to an operation of ${attribution[3]} awaits`,
        `${attribution[2]} ns`,
      );
    }
    const sample = /^sample \[(.+?)\]: ([\d.]+) µs CPU per sample/.exec(line);
    if (sample) {
      const share = Number(sample[2]) / 1e6; // of one core, at the default 1 s interval
      row(
        'meter',
        `one sample's CPU, ${sample[1]}`,
        `${sample[2]} µs (${(share * 100).toFixed(4)} % of a core at 1 sample/s)`,
      );
    }
  }
}

// --- carbonscope's request path, in-process --------------------------------------------------

async function requestPathCosts(): Promise<void> {
  const script = join(projectRoot, 'dist', 'test', 'bench', 'request-path.bench.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    env: { ...process.env, BENCH_REQUESTS: String(PLAN.meterOps / 2) },
    timeout: 300_000,
  });
  raw.requestPathBench = stdout.trim().split('\n');
  for (const line of stdout.split('\n')) {
    const m = /^request path \[(.+?)\]: (-?\d+) ns per request/.exec(line);
    if (!m) continue;
    const ns = Number(m[2]);
    // The budget is for what a service gets by default: tracking and metrics, local histograms.
    const budgeted = m[1].includes('local histograms');
    row(
      'request path (in-process)',
      `carbonscope's CPU per request: ${m[1]}`,
      `${fmt(ns / 1000, 2)} µs`,
      budgeted ? `<= ${BUDGET.addedCpuMicros} µs` : '',
      budgeted ? check(ns / 1000 <= BUDGET.addedCpuMicros) : '',
    );
  }
}

// --- a scrape of exponential histograms, in-process ----------------------------------------

async function expositionCosts(): Promise<void> {
  const script = join(projectRoot, 'dist', 'test', 'bench', 'exposition.bench.js');
  const { stdout } = await promisify(execFile)(process.execPath, [script], {
    env: { ...process.env, BENCH_ROUNDS: String(PLAN.expositionRounds) },
    timeout: 300_000,
  });
  raw.expositionBench = stdout.trim().split('\n');
  for (const line of stdout.split('\n')) {
    const m = /^exposition \[(.+?)\]: ([\d.]+) ms CPU per scrape \((.+?)\), (.+)$/.exec(line);
    if (m) {
      const measure = `CPU per scrape of the operation histograms, ${m[1]}: ${m[4]}`;
      row('scrape (in-process)', measure, `${m[2]} ms (${m[3]})`);
    }
    const ratio = /^exposition: (.+)$/.exec(line);
    if (ratio) row('scrape (in-process)', 'exponential against explicit', ratio[1]);
  }
}

// --- carbonscope's own code over HTTP, sampled by perf ---------------------------------------

const OWN_DIR = realpathSync(join(projectRoot, 'packages', 'carbonscope', 'dist'));
/**
 * Node calls a diagnostics channel's publish only for a channel with subscribers, and in these
 * servers only carbonscope subscribes (to the HTTP server's): its time is carbonscope's, and so
 * is that of subscribers the JIT inlined into it.
 */
const ALSO_OWN = ['publish node:diagnostics_channel:'];

/**
 * Where its own code is sampled: the app's cheapest route, traced too (carbonscope's additions
 * to OTel's tracing, which two processes cannot resolve beside tracing's own ~200-430 µs), and
 * the Express example's.
 */
const ownCodeCases = (
  metricsPort: number,
  sink: TraceSink,
): Array<{ label: string; options: StartOptions; path: string; budget: boolean }> => [
  {
    label: 'app GET /healthz',
    options: carbonscope('own-healthz', false),
    path: '/healthz',
    budget: true,
  },
  {
    label: 'app GET /healthz + OTel tracing',
    options: carbonscope('own-tracing', true, tracingEnv(sink, 'own-tracing')),
    path: '/healthz',
    budget: true,
  },
  {
    label: 'app GET /carbon_intensity',
    options: carbonscope('own-intensity', false),
    path: '/carbon_intensity',
    budget: false,
  },
  {
    label: 'Express GET /hello + register',
    options: express('own-express', metricsPort),
    path: '/hello',
    budget: true,
  },
];

/**
 * carbonscope's own CPU per request in a server under load (own-code.ts): the figure the
 * 3 µs budget is about, measured where the code runs, in one process, so it needs no second
 * process to subtract (the rows above show why that cannot resolve 3 µs here).
 */
async function ownCodeCosts(): Promise<void> {
  const { warmupSeconds, seconds } = PLAN;
  const plan = { warmupSeconds, seconds, connections: CONNECTIONS, frequency: 999 };
  const traceSink = await startTraceSink();
  try {
    raw.ownCode = await sampleOwnCode(plan, traceSink);
  } finally {
    traceSink.close();
  }
}

/** Each case's perf figures (its top functions), by label; adds their rows. */
async function sampleOwnCode(plan: OwnCodePlan, sink: TraceSink): Promise<Record<string, unknown>> {
  const group = "carbonscope's own code (perf)";
  const results: Record<string, unknown> = {};
  for (const c of ownCodeCases(await freePort(), sink)) {
    try {
      const r = await ownCodeCost(
        c.options,
        [{ path: c.path, headers: { accept: 'application/json' } }],
        plan,
        OWN_DIR,
        ALSO_OWN,
      );
      results[c.label] = { ...r, functions: r.functions.slice(0, 20) };
      row(
        group,
        `${c.label}: CPU per request in carbonscope's code (its samples ÷ the process's × the process's CPU per request)`,
        `${fmt(r.ownMicrosPerRequest, 2)} ± ${fmt(r.samplingErrorMicros, 2)} µs (${fmtInt(r.own)} of ${fmtInt(r.total)} samples × ${fmt(r.cpuMicrosPerRequest, 1)} µs)`,
        c.budget ? `<= ${BUDGET.addedCpuMicros} µs` : '',
        c.budget ? check(r.ownMicrosPerRequest <= BUDGET.addedCpuMicros) : '',
      );
      const top = r.functions
        .slice(0, 5)
        .map(
          ([name, n]) =>
            `${name.replace(/:\d+:\d+$/, '')} ${fmt((n / r.total) * r.cpuMicrosPerRequest, 2)}`,
        )
        .join('; ');
      row(group, `${c.label}: where, µs per request`, top);
      log(`own code, ${c.label}: ${fmt(r.ownMicrosPerRequest, 2)} µs per request`);
    } catch (err) {
      notMeasured(group, `${c.label}: CPU per request in carbonscope's code`, err);
    }
  }
  return results;
}

// --- CodeCarbon side by side --------------------------------------------------------------

async function codecarbonSide(): Promise<void> {
  const group = 'vs CodeCarbon';
  try {
    const { warmupSeconds, rounds, seconds } = PLAN;
    const plan = { warmupSeconds, rounds, seconds, connections: CONNECTIONS };
    const result = await codecarbonSideBySide(plan, (message) => log(`codecarbon: ${message}`));
    for (const r of result.rows) row(group, r.measure, r.value);
    raw.codecarbon = result.raw;
  } catch (err) {
    notMeasured(group, 'CodeCarbon side by side', err);
  }
}

// --- carbonscope switched off and on in one process ----------------------------------------

const SWITCH_ENTRY = join(projectRoot, 'dist', 'test', 'bench', 'tracking-switch.js');
/**
 * Unmeasured load after each switch (see Contender.settleSeconds): the rotation switches
 * tracking on before three of `on`'s five rounds and one of `onAgain`'s, so without it the
 * noise floor read low (negative in runs E-G) and the CPU added high.
 */
const SWITCH_SETTLE_SECONDS = QUICK ? 1 : 3;

/**
 * The Express hello world under `--import carbonscope/register`, with request tracking switched
 * off and on between rounds in the same process (tracking-switch.ts): carbonscope's cost per
 * request without the difference between two processes, which on this machine is larger than
 * the budget (see the noise-floor row). A third contender, tracking on again, is this method's
 * own noise floor. CPU per request is compared round by round (each round's runs are back to
 * back) and the median of those differences taken.
 */
/**
 * The switch did switch: the operations carbonscope counted for /hello are some of the requests
 * answered (the rounds with tracking on), not none and not all.
 */
async function checkSwitched(options: StartOptions, answered: Map<string, number>): Promise<void> {
  await sleep(1500); // the last requests settle at the next sample
  const port = options.env?.OTEL_EXPORTER_PROMETHEUS_PORT;
  const text = await scrape(`http://127.0.0.1:${port}`);
  const counted =
    findSample(text, 'carbonscope_operation_energy_joules_count', {
      carbonscope_operation: '/hello',
    }) ?? Number.NaN;
  const total = [...answered.values()].reduce((a, b) => a + b, 0);
  const off = answered.get('off') ?? 0;
  // Half the off rounds' requests of slack: the readiness probes were tracked, and a request
  // in flight at a switch may fall either way.
  if (!(counted > 0 && counted < total - off / 2)) {
    throw new Error(`tracking switch: ${counted} /hello operations counted of ${total} answered`);
  }
}

async function sameProcessSwitch(): Promise<void> {
  const name = 'Express GET /hello, one process';
  const [switchPort, port] = (await freePorts(2)) as [number, number];
  const options = express('express-switch', port);
  const server = await startServer({
    ...options,
    nodeArgs: [...(options.nodeArgs ?? []), '--import', SWITCH_ENTRY],
    env: { ...options.env, CARBONSCOPE_SWITCH_PORT: String(switchPort) },
  });
  try {
    const turn = (state: 'on' | 'off') => async () => {
      const res = await fetch(`http://127.0.0.1:${switchPort}/tracking/${state}`);
      if (res.status !== 200) throw new Error(`tracking switch: ${res.status}`);
    };
    const contender = (key: string, label: string, state: 'on' | 'off') => ({
      key,
      label,
      url: server.url,
      pid: server.pid,
      requests: [{ path: '/hello' }],
      before: turn(state),
      settleSeconds: SWITCH_SETTLE_SECONDS,
    });
    const { warmupSeconds, rounds, seconds } = PLAN;
    const { runs, answered } = await alternatingRounds(
      [
        contender('off', 'request tracking off', 'off'),
        contender('on', 'request tracking on', 'on'),
        contender('onAgain', 'request tracking on, again', 'on'),
      ],
      { warmupSeconds, rounds, seconds, connections: CONNECTIONS },
      (m) => log(`${name} ${m}`),
    );
    await checkSwitched(options, answered);
    raw.sameProcessSwitch = Object.fromEntries(runs);
    const of = (key: string) => runs.get(key) ?? [];
    for (const key of ['off', 'on']) {
      const r = of(key);
      row(
        `overhead ${name}`,
        `${key === 'on' ? 'request tracking on' : 'request tracking off'}: req/s, server CPU per request`,
        `${fmtInt(median(r.map((x) => x.requestsPerSecond)))} req/s, ${fmt(medianCpu(r), 1)} µs CPU`,
      );
    }
    const added = addedInRounds(of('on'), of('off'));
    const noise = addedInRounds(of('onAgain'), of('on'));
    const verdict = addedWithin(added, BUDGET.addedCpuMicros, noise);
    row(
      `overhead ${name}`,
      "carbonscope's request path, tracking on vs off in the same process: CPU added per request (median of per-round differences)",
      `${fmt(added, 1)} µs${unresolved(verdict, `${fmt(noise, 1)} µs`)}`,
      `<= ${BUDGET.addedCpuMicros} µs, resolved`,
      check(verdict.ok),
    );
    row(
      `overhead ${name}`,
      'throughput ratio, tracking on vs off (median of per-round ratios)',
      `${fmt(ratioOf(of('on'), of('off')) * 100, 1)} %`,
    );
    row(
      `overhead ${name}`,
      "noise floor of this method: tracking on vs on, CPU 'added' per request",
      `${fmt(noise, 1)} µs`,
    );
  } finally {
    await server.stop();
  }
}

// --- the table -----------------------------------------------------------------------------

function markdown(): string {
  const lines = [
    '| group | measure | value | budget | verdict |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.group} | ${r.measure} | ${r.value} | ${r.budget} | ${r.verdict || ''} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function printTable(): void {
  const cols: Array<keyof Row> = ['group', 'measure', 'value', 'budget', 'verdict'];
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(width[i])).join('  ');
  console.log(line(cols));
  console.log(line(width.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}

function environment() {
  return {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverage1mAtStart: loadavg()[0],
    plan: { ...PLAN, connections: CONNECTIONS },
  };
}

async function main(): Promise<void> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (CPU_PROF) mkdirSync(PROFILE_DIR, { recursive: true });
  const env = environment();
  log(`${env.mode} run, ${env.cpus} CPUs, load average ${env.loadAverage1mAtStart.toFixed(2)}`);

  await startup();
  log('start-up measured');

  const traceSink = await startTraceSink();
  const all = variants(traceSink, await freePort());
  try {
    for (const v of all) v.server = await startServer(v.options);
    const idle = await settledRss(
      all.map((v) => (v.server as RunningServer).pid),
      IDLE_WINDOW,
    );
    all.forEach((v, i) => {
      v.idleRss = idle[i];
    });

    const results: Record<string, Record<string, Measured[]>> = {};
    for (const comparison of COMPARISONS) {
      const group = comparison.keys.map((k) => all.find((v) => v.key === k) as Variant);
      const spansBefore = TRACED.map((key) => traceSink.spans(key));
      const { runs: measured, answered } = await compare(
        comparison.name,
        group,
        comparison.requests,
      );
      if (comparison.name === 'GET /healthz') {
        raw.spansPerResponse = await spanRows(traceSink, spansBefore, answered);
      }
      results[comparison.name] = Object.fromEntries(measured);
      overheadRows(comparison.name, group, measured);
      if (comparison.name === 'POST /predict') predictRows(measured);
    }
    raw.overhead = results;

    const main = all.find((v) => v.key === 'default')?.server as RunningServer;
    await scrapeTime(main);
    log('/metrics measured');

    await sleep(1000);
    for (const v of all) {
      const server = v.server as RunningServer;
      row(
        'memory',
        `${v.label}: RSS idle (least of ${IDLE_WINDOW.windowMs / 1000} s of readings) / after load`,
        `${fmt(v.idleRss ?? Number.NaN, 1)} MiB / ${fmt(rssMiB(server.pid), 1)} MiB`,
      );
    }
    const idleOf = (key: string) => all.find((v) => v.key === key)?.idleRss ?? Number.NaN;
    const ratio = idleOf('default') / idleOf('bare');
    row(
      'memory',
      'carbonscope app idle RSS / the app without carbonscope',
      `${fmt(ratio, 2)}×`,
      `<= ${BUDGET.idleRssRatio}×`,
      check(ratio <= BUDGET.idleRssRatio),
    );
  } finally {
    for (const v of all) await v.server?.stop();
  }
  try {
    await simultaneousOverhead(traceSink);
    log('simultaneous rounds measured');
  } finally {
    traceSink.close();
  }

  await sameProcessSwitch();
  log('same-process switch measured');

  await meterCosts();
  await requestPathCosts();
  await expositionCosts();
  log('meter, request path and exposition measured');

  await ownCodeCosts();
  log("carbonscope's own code measured");

  await codecarbonSide();
  log('CodeCarbon side by side measured');

  const attribution = await runAttribution(QUICK ? QUICK_PLAN : FULL_PLAN, (m) =>
    log(`attribution: ${m}`),
  );
  rows.push(...attribution.rows);
  raw.attribution = attribution.raw;
  log('attribution measured');

  const stem = QUICK ? 'bench-quick' : 'bench';
  const loadEnd = loadavg()[0];
  const header =
    `carbonscope benchmark, ${env.date}, ${env.mode} run, node ${env.node}, ${env.cpus} × ${env.cpuModel}, ` +
    `load average ${env.loadAverage1mAtStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end`;
  writeFileSync(
    join(RESULTS_DIR, `${stem}.json`),
    `${JSON.stringify({ environment: { ...env, loadAverage1mAtEnd: loadEnd }, rows, raw }, null, 2)}\n`,
  );
  writeFileSync(join(RESULTS_DIR, `${stem}.md`), `${header}\n\n${markdown()}`);
  console.log(header);
  printTable();
  const failed = rows.filter((r) => r.verdict === 'FAIL');
  console.log(
    failed.length === 0
      ? 'every budget met'
      : `budgets missed: ${failed.map((r) => `${r.group} / ${r.measure}`).join('; ')}`,
  );
  console.log(`written: bench-results/${stem}.json, bench-results/${stem}.md`);
  if (STRICT && failed.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(2);
});
