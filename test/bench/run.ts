/**
 * `npm run bench`: what carbonscope costs and how much load it holds, measured on this machine.
 *   - overhead: bare Koa routes vs carbonscope (metrics + meter + request tracking, tracing off)
 *     vs carbonscope with tracing on, autocannon against each in alternating rounds;
 *   - /predict throughput and latency at a fixed concurrency;
 *   - /metrics scrape time with every instrument populated;
 *   - the meter's own costs (test/bench/meter.bench.ts);
 *   - whether each request's energy follows its CPU (test/bench/attribution.bench.ts);
 *   - start-up to ready, resident memory at idle and after the load.
 * Prints one table and writes it to bench-results/ as JSON and Markdown.
 * Flags: --quick (short runs, to check the harness), --strict (exit 1 when a budget is missed),
 * --cpu-prof (the carbonscope servers write .cpuprofile files to bench-results/profiles/).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/paths.js';
import { FULL_PLAN, QUICK_PLAN, runAttribution } from './attribution.bench.js';
import { type LoadRequest, type LoadResult, median, percentile, runLoad, sleep } from './load.js';
import {
  bare,
  carbonscope,
  cpuSeconds,
  type RunningServer,
  rssMiB,
  type StartOptions,
  scrape,
  seriesOf,
  startServer,
} from './servers.js';
import { ACTIVITIES, chatModels, everyRequest, sendEach } from './traffic-mix.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const STRICT = args.has('--strict');
const CPU_PROF = args.has('--cpu-prof');

const PLAN = QUICK
  ? { startups: 1, warmupSeconds: 1, rounds: 2, seconds: 2, scrapes: 30, meterOps: 50_000 }
  : { startups: 3, warmupSeconds: 3, rounds: 5, seconds: 8, scrapes: 200, meterOps: 500_000 };
const CONNECTIONS = 20;

const BUDGET = {
  overheadRatio: 0.9,
  predictRps: 2000,
  scrapeMedianMs: 5,
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
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const fmtInt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

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

const VARIANTS: Variant[] = [
  { key: 'bare', label: 'bare Koa routes', options: bare('bare') },
  {
    key: 'metrics',
    label: 'carbonscope: metrics + meter + tracking',
    options: withProfile(carbonscope('metrics', false)),
  },
  {
    key: 'tracing',
    label: 'carbonscope + tracing (default)',
    options: withProfile(carbonscope('tracing', true)),
  },
];

const ENDPOINTS: Array<{ name: string; requests: LoadRequest[] }> = [
  { name: 'GET /healthz', requests: [{ path: '/healthz' }] },
  {
    name: 'POST /predict',
    requests: ACTIVITIES.map((activity) => ({
      method: 'POST',
      path: '/predict',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ activity }),
    })),
  },
];

/** A load run plus the server's CPU time per request (all its threads, from /proc). */
interface Measured extends LoadResult {
  cpuMicrosPerRequest: number;
}

function assertClean(what: string, r: LoadResult): void {
  if (r.status5xx > 0 || r.errors > 0 || r.status2xx === 0) {
    throw new Error(`${what}: ${r.status5xx} 5xx, ${r.errors} errors, ${r.status2xx} 2xx`);
  }
}

/** Rounds in alternating order; returns each variant's results, round by round. */
async function overheadFor(endpoint: (typeof ENDPOINTS)[number]): Promise<Map<string, Measured[]>> {
  const results = new Map<string, Measured[]>(VARIANTS.map((v) => [v.key, []]));
  for (const v of VARIANTS) {
    const server = v.server as RunningServer;
    await runLoad({
      url: server.url,
      connections: CONNECTIONS,
      durationSeconds: PLAN.warmupSeconds,
      requests: endpoint.requests,
    });
  }
  for (let round = 0; round < PLAN.rounds; round++) {
    // Rotate the order each round so a slow drift in the machine's load hits every variant.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
    for (const v of order) {
      const server = v.server as RunningServer;
      const cpu0 = cpuSeconds(server.pid);
      const r = await runLoad({
        url: server.url,
        connections: CONNECTIONS,
        durationSeconds: PLAN.seconds,
        requests: endpoint.requests,
      });
      const cpuMicros = ((cpuSeconds(server.pid) - cpu0) * 1e6) / r.total;
      assertClean(`${endpoint.name} on ${v.label}`, r);
      results.get(v.key)?.push({ ...r, cpuMicrosPerRequest: cpuMicros });
      log(`${endpoint.name} round ${round + 1} ${v.key}: ${fmt(r.requestsPerSecond)} req/s`);
    }
  }
  return results;
}

function overheadRows(endpoint: string, results: Map<string, Measured[]>): void {
  const base = results.get('bare') ?? [];
  for (const v of VARIANTS) {
    const runs = results.get(v.key) ?? [];
    const rps = median(runs.map((r) => r.requestsPerSecond));
    const p99 = median(runs.map((r) => r.p99Ms));
    const cpu = median(runs.map((r) => r.cpuMicrosPerRequest));
    row(
      `overhead ${endpoint}`,
      `${v.label}: req/s, p99, server CPU per request`,
      `${fmtInt(rps)} req/s, p99 ${fmt(p99, 1)} ms, ${fmt(cpu, 1)} µs CPU`,
    );
    if (v.key === 'bare') continue;
    const baseCpu = median(base.map((r) => r.cpuMicrosPerRequest));
    row(
      `overhead ${endpoint}`,
      `${v.label}: CPU added per request vs bare`,
      `${fmt(cpu - baseCpu, 1)} µs (${fmt((cpu / baseCpu - 1) * 100, 0)} %)`,
    );
    // Each round's runs are back to back, so a per-round ratio cancels most machine noise.
    const ratio = median(runs.map((r, i) => r.requestsPerSecond / base[i].requestsPerSecond));
    const budgeted = v.key === 'metrics';
    row(
      `overhead ${endpoint}`,
      `${v.label}: throughput / bare (median of per-round ratios)`,
      `${fmt(ratio * 100, 1)} %`,
      budgeted ? `>= ${BUDGET.overheadRatio * 100} %` : '',
      budgeted ? check(ratio >= BUDGET.overheadRatio) : '',
    );
  }
}

function predictRows(results: Map<string, Measured[]>): void {
  const runs = results.get('tracing') ?? [];
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

// --- /metrics scrape -----------------------------------------------------------------------

async function scrapeTime(server: RunningServer): Promise<void> {
  const models = await chatModels(server.url);
  const statuses = await sendEach(server.url, everyRequest(models));
  // Let the meter take a sample so every energy and emissions series exists.
  await sleep(1500);
  // Untimed scrapes first: the steady state a scraper sees every 15 s, not the first-call JIT.
  for (let i = 0; i < 10; i++) await scrape(server.url);
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < PLAN.scrapes; i++) {
    const t0 = performance.now();
    text = await scrape(server.url);
    times.push(performance.now() - t0);
  }
  const series = seriesOf(text);
  const names = new Set(series.map((s) => s.replace(/[{ ].*$/, '')));
  const ms = median(times);
  raw.scrape = {
    statusesOfPopulate: [...new Set(statuses)].sort(),
    timesMs: times,
    series: series.length,
    bytes: text.length,
  };
  row(
    '/metrics',
    `scrape time, median of ${times.length} (${series.length} series, ${names.size} names, ${fmtInt(text.length)} B)`,
    `${fmt(ms, 2)} ms`,
    `< ${BUDGET.scrapeMedianMs} ms`,
    check(ms < BUDGET.scrapeMedianMs),
  );
  row('/metrics', 'scrape time p99', `${fmt(percentile(times, 99), 2)} ms`);
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

  try {
    for (const v of VARIANTS) {
      v.server = await startServer(v.options);
    }
    await sleep(2000);
    for (const v of VARIANTS) v.idleRss = rssMiB((v.server as RunningServer).pid);

    const perEndpoint: Record<string, Record<string, Measured[]>> = {};
    for (const endpoint of ENDPOINTS) {
      const results = await overheadFor(endpoint);
      perEndpoint[endpoint.name] = Object.fromEntries(results);
      overheadRows(endpoint.name, results);
      if (endpoint.name === 'POST /predict') predictRows(results);
    }
    raw.overhead = perEndpoint;

    const main = VARIANTS[2].server as RunningServer;
    await scrapeTime(main);
    log('/metrics measured');

    await sleep(1000);
    for (const v of VARIANTS) {
      const server = v.server as RunningServer;
      row(
        'memory',
        `${v.label}: RSS idle / after load`,
        `${fmt(v.idleRss ?? Number.NaN, 1)} MiB / ${fmt(rssMiB(server.pid), 1)} MiB`,
      );
    }
  } finally {
    for (const v of VARIANTS) await v.server?.stop();
  }

  await meterCosts();
  log('meter measured');

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
