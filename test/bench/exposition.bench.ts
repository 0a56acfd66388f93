/**
 * What a scrape of carbonscope's operation histograms costs when they are exponential, against
 * the same histograms with their explicit buckets, in-process (no HTTP, no other process). For
 * OPERATIONS operation names, the operation energy histogram and the emissions one (usage and
 * embodied) are recorded through the OTel SDK, as carbonscope records them in an SDK given no
 * `histograms`; for the exponential kind a View makes every histogram exponential (what
 * OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION=base2_exponential_bucket_histogram
 * asks of startNodeSDK). A scrape is what the service's metricsText() does, timed in two parts:
 * the PrometheusExporter's collection, then PrometheusText's exposition, in the process's CPU
 * time (process.cpuUsage: what the scrape costs, which a machine shared with other work does
 * not stretch as it does the wall clock; GC threads included). Rounds alternate the
 * two kinds, the one first changing every round; before each scrape both record the same values
 * (some outside a series' buckets so far, as traffic records them), untimed.
 * Run: npx tsc -b && node dist/test/bench/exposition.bench.js
 * (BENCH_OPERATIONS, BENCH_ROUNDS and BENCH_SCRAPES change the plan.)
 */
import type { Attributes, Histogram } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import * as sdk from '@opentelemetry/sdk-metrics';
import { createInstrument, ESTIMATED, METRICS, PrometheusText } from 'carbonscope';
import { median } from './load.js';

const OPERATIONS = Number(process.env.BENCH_OPERATIONS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SCRAPES = Number(process.env.BENCH_SCRAPES ?? 30);
/** Untimed scrapes of each kind first: V8 optimizes the scrape's code over its first hundreds. */
const WARMUP_SCRAPES = 300;
/** Values per series recorded before the first scrape, and between two scrapes in all. */
const FIRST_VALUES = 200;
const VALUES_BETWEEN = OPERATIONS;
const OPERATION = 'carbonscope.operation';
const PHASE = 'carbonscope.phase';

type Kind = 'exponential' | 'explicit';

/** A seeded generator: both kinds record the same values. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** One operation's three series and the energy its operations are spread around. */
interface Operation {
  joules: number;
  energy: Attributes;
  usage: Attributes;
  embodied: Attributes;
}

interface Population {
  /** Records `values` values into series drawn at random. */
  record(values: number): void;
  collect(): Promise<sdk.ResourceMetrics>;
  shutdown(): Promise<void>;
}

function population(kind: Kind): Population {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const views: sdk.ViewOptions[] =
    kind === 'exponential'
      ? [
          {
            instrumentType: sdk.InstrumentType.HISTOGRAM,
            aggregation: { type: sdk.AggregationType.EXPONENTIAL_HISTOGRAM },
          },
        ]
      : [];
  const provider = new sdk.MeterProvider({ readers: [reader], views });
  const meter = provider.getMeter('carbonscope');
  const energy: Histogram = createInstrument(meter, METRICS.operationEnergy);
  const emissions: Histogram = createInstrument(meter, METRICS.operationEmissions);
  const random = seeded(71);
  // Operations from 10 µJ to 1 J, each spread over about a decade either side.
  const operations: Operation[] = Array.from({ length: OPERATIONS }, (_, i) => {
    const operation = `GET /route/${i}`;
    return {
      joules: 10 ** (-5 + 5 * random()),
      energy: { [OPERATION]: operation, [ESTIMATED]: true },
      usage: { [OPERATION]: operation, [PHASE]: 'usage', [ESTIMATED]: true },
      embodied: { [OPERATION]: operation, [PHASE]: 'embodied', [ESTIMATED]: true },
    };
  });
  // Roughly normal on a log scale: the sum of three uniforms.
  const spread = () => 10 ** ((random() + random() + random() - 1.5) * 0.8);
  const recordOne = (operation: Operation) => {
    const joules = operation.joules * spread();
    energy.record(joules, operation.energy);
    emissions.record(joules * 1.1e-4, operation.usage);
    emissions.record(joules * 3e-5 * spread(), operation.embodied);
  };
  for (const operation of operations) {
    for (let n = 0; n < FIRST_VALUES; n++) recordOne(operation);
  }
  return {
    record(values) {
      for (let n = 0; n < values; n++) {
        recordOne(operations[Math.floor(random() * operations.length)] as Operation);
      }
    },
    collect: async () => (await reader.collect()).resourceMetrics,
    shutdown: () => provider.shutdown(),
  };
}

/** Milliseconds of one scrape's two parts, and what it wrote. */
interface Scrape {
  collectMs: number;
  textMs: number;
  bytes: number;
  text: Buffer;
}

/** The process's CPU time so far, in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function scrapeOnce(app: Population, text: PrometheusText): Promise<Scrape> {
  app.record(VALUES_BETWEEN);
  const t0 = cpuMs();
  const collected = await app.collect();
  const t1 = cpuMs();
  const bytes = text.encode(collected);
  const t2 = cpuMs();
  return { collectMs: t1 - t0, textMs: t2 - t1, bytes: bytes.length, text: bytes };
}

interface Contender {
  kind: Kind;
  app: Population;
  text: PrometheusText;
  /** Each round's median scrape, whole and in its two parts. */
  rounds: Array<{ totalMs: number; collectMs: number; textMs: number }>;
  last?: Scrape;
}

async function round(contender: Contender): Promise<void> {
  const scrapes: Scrape[] = [];
  for (let i = 0; i < SCRAPES; i++) scrapes.push(await scrapeOnce(contender.app, contender.text));
  contender.rounds.push({
    totalMs: median(scrapes.map((s) => s.collectMs + s.textMs)),
    collectMs: median(scrapes.map((s) => s.collectMs)),
    textMs: median(scrapes.map((s) => s.textMs)),
  });
  contender.last = scrapes.at(-1);
}

const ms = (value: number) => value.toFixed(2);
const range = (values: number[]) => `${ms(Math.min(...values))}-${ms(Math.max(...values))}`;

function report(contender: Contender): void {
  const { rounds, last } = contender;
  const totals = rounds.map((r) => r.totalMs);
  const collect = rounds.map((r) => r.collectMs);
  const text = rounds.map((r) => r.textMs);
  const exposition = last?.text.toString('latin1') ?? '';
  const series = (exposition.match(/_count[{ ]/g) ?? []).length;
  const buckets = (exposition.match(/_bucket\{/g) ?? []).length;
  console.log(
    `exposition [${contender.kind}]: ${ms(median(totals))} ms CPU per scrape ` +
      `(collection ${ms(median(collect))} ms, text ${ms(median(text))} ms; ` +
      `round medians ${range(totals)} ms, text ${range(text)} ms), ` +
      `${series} histogram series, ${buckets} bucket lines, ${Math.round((last?.bytes ?? 0) / 1024)} KB`,
  );
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${OPERATIONS} operations (${OPERATIONS * 3} series), ` +
      `${ROUNDS} rounds of ${SCRAPES} scrapes`,
  );
  const contenders: Contender[] = (['exponential', 'explicit'] as const).map((kind) => ({
    kind,
    app: population(kind),
    text: new PrometheusText(sdk, { scopeLabels: false }),
    rounds: [],
  }));
  for (const contender of contenders) {
    for (let i = 0; i < WARMUP_SCRAPES; i++) await scrapeOnce(contender.app, contender.text);
  }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse();
    for (const contender of order) await round(contender);
  }
  for (const contender of contenders) report(contender);
  const [exponential, explicit] = contenders as [Contender, Contender];
  const ratio = (pick: (r: Contender['rounds'][number]) => number) =>
    (median(exponential.rounds.map(pick)) / median(explicit.rounds.map(pick))).toFixed(1);
  console.log(
    `exposition: exponential / explicit = ${ratio((r) => r.totalMs)}x per scrape, ` +
      `${ratio((r) => r.textMs)}x its text; exponential bucket-end runs kept: ${exponential.text.keptEndRuns}`,
  );
  for (const contender of contenders) await contender.app.shutdown();
}

await main();
