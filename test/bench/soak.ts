/**
 * `npm run soak`: a bounded mixed load against the service on loopback, then a verdict.
 *   - load: every endpoint, good and bad inputs (400, 404, 405, 413, 415), and one request in ten
 *     drawn anew: random paths, random zones (real, made-up, thousands of characters), random
 *     model names (real, made-up, long) and long values (query strings, headers, paths);
 *   - bounds: zero 5xx and zero connection errors; memory growth under 10 % after warm-up, on
 *     V8's heap after each full collection (the spawned server runs with --trace-gc): the 95 %
 *     interval of its least-squares trend over the window all under 10 % (PASS), all over (FAIL),
 *     else UNRESOLVED, and the load goes on 30 s at a time, up to 4 min more, until it is
 *     resolved; else on RSS (medians of the first and last third); the set of series in /metrics
 *     unchanged after warm-up and its size within 10 %;
 *     still ready at the end; and (when it spawned the server) RSS at most 1.3 times the app's
 *     without carbonscope, each a fresh server under the part of the mix both answer alike (30 s
 *     + 30 s each, after the soak).
 * Spawns the built server (default configuration, info logs to a file) unless --url is given;
 * with --url, memory is checked, on RSS, only when --pid names the server's process.
 * Flags: --seconds=N measured after --warmup=N (defaults 60 and 60), --connections=N (16),
 * --url=http://127.0.0.1:PORT, --pid=N; --help lists them, and any other argument is refused
 * (exit 2). Exits 1 when a bound breaks, else 3 when the memory growth is still unresolved at
 * the end (too few full collections to tell), else 0.
 */
import { readFileSync, statSync } from 'node:fs';
import type { GrowthTrend, Reading, Verdict } from './growth-trend.js';
import { assertLoopback, type LoadResult, median, runLoad, sleep } from './load.js';
import {
  FULL_GCS_NEEDED,
  GROWTH_LIMIT,
  heapAfterFullGcs,
  heapGrowth,
  type MemoryGrowth,
  memoryGrowth,
} from './memory-growth.js';
import {
  bare,
  carbonscope,
  type RunningServer,
  rssMiB,
  type StartOptions,
  scrape,
  seriesOf,
  startServer,
} from './servers.js';
import {
  chatEveryModel,
  chatModels,
  everyRequest,
  mixPicker,
  sendEach,
  servedByBoth,
  sharedMixPicker,
} from './traffic-mix.js';

const FLAGS = ['seconds', 'warmup', 'connections', 'url', 'pid'] as const;
const USAGE =
  'usage: node dist/test/bench/soak.js [--warmup=S (60)] [--seconds=S (60)] ' +
  '[--connections=N (16)] [--url=http://127.0.0.1:PORT [--pid=N]]';

/**
 * --help, or an argument it does not know: either would otherwise start a default soak of
 * minutes, the argument dropped without a word.
 */
function checkArguments(args: readonly string[]): void {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const unknown = args.find((a) => !FLAGS.some((f) => a.startsWith(`--${f}=`)));
  if (unknown === undefined) return;
  console.error(`soak: unknown argument ${unknown}; ${USAGE}`);
  process.exit(2);
}
checkArguments(process.argv.slice(2));

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

/** The measured load, after the warm-up. */
const SECONDS = Math.min(3600, Math.max(10, Number(flag('seconds') ?? 60)));
// RSS climbs for the first minute or so of this mix while V8 sizes its heap; measuring after that
// tells growth from warm-up.
const WARMUP_SECONDS = Math.min(600, Math.max(2, Number(flag('warmup') ?? 60)));
const RSS_EVERY_MS = 2000;
const CONNECTIONS = Math.min(256, Math.max(1, Number(flag('connections') ?? 16)));
/** How long the measured load may go on past --seconds for the heap's growth to be resolved. */
const MORE_SECONDS_AT_MOST = 240;
/** carbonscope's RSS under the soak against the app's without it, under the same soak. */
const RSS_VS_BARE = 1.3;

const kb = (text: string) => (Buffer.byteLength(text) / 1024).toFixed(1);

interface Check {
  name: string;
  verdict: Verdict;
  detail: string;
}

const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'FAIL');

function add(into: LoadResult | undefined, r: LoadResult): LoadResult {
  if (!into) return r;
  const statusCounts = { ...into.statusCounts };
  for (const [code, n] of Object.entries(r.statusCounts)) {
    statusCounts[code] = (statusCounts[code] ?? 0) + n;
  }
  return {
    ...into,
    total: into.total + r.total,
    status2xx: into.status2xx + r.status2xx,
    status4xx: into.status4xx + r.status4xx,
    status5xx: into.status5xx + r.status5xx,
    errors: into.errors + r.errors,
    statusCounts,
  };
}

/** RSS once the load has stopped and the heap had a moment to settle. */
async function settledRss(pid: number | undefined): Promise<number> {
  await sleep(1000);
  return pid ? rssMiB(pid) : Number.NaN;
}

function logErrors(server: RunningServer | undefined): string[] {
  if (!server) return [];
  // pino levels: 50 error, 60 fatal. Bounded: the file holds at most this run's lines.
  return (
    readFileSync(server.logFile, 'utf8')
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l))
      // 503s from /readyz while the server starts are the readiness poll, not a failure.
      .filter((l) => !l.includes('"endpoint":"/readyz","status":503'))
      .slice(0, 5)
  );
}

interface SoakRun {
  totals: LoadResult;
  load: LoadResult;
  /** RSS every 2 s under the measured load (empty without a pid). */
  trend: number[];
  /** The heap (MB) after each full collection under the measured load (empty without a trace). */
  heaps: Reading[];
  rss0: number;
  rss1: number;
  text0: string;
  text1: string;
}

/**
 * Every request of the mix once, the warm-up, then the measured load with RSS sampled and, where
 * `gcTrace` names the spawned server's output (run with --trace-gc), its full collections read.
 */
async function soak(
  url: string,
  pid: number | undefined,
  gcTrace: string | undefined,
): Promise<SoakRun> {
  const models = await chatModels(url);
  const pick = mixPicker(models);
  // Every request of the mix once and every model once, so each label set exists before the
  // baseline is taken.
  await sendEach(url, [...everyRequest(models), ...chatEveryModel(models)]);
  let totals = await runLoad({
    url,
    connections: CONNECTIONS,
    durationSeconds: WARMUP_SECONDS,
    requests: [{ path: '/healthz' }],
    pick,
  });
  const rss0 = await settledRss(pid);
  const text0 = await scrape(url);
  console.log(
    `after warm-up: RSS ${rss0.toFixed(1)} MiB, ${seriesOf(text0).length} series, /metrics ${kb(text0)} KB`,
  );
  // RSS every 2 s under load, and the heap after each full collection from here on. The load
  // goes on past --seconds, 30 s at a time, until enough full collections ran to tell whether the
  // heap grew 10 % (at the soak's noise a minute's 6–8 rarely can; see the README).
  const trend: number[] = [];
  const sampler = pid ? setInterval(() => trend.push(rssMiB(pid)), RSS_EVERY_MS) : undefined;
  const from = gcTrace ? statSync(gcTrace).size : 0;
  const heaps = () =>
    gcTrace ? heapAfterFullGcs(readFileSync(gcTrace).subarray(from).toString('utf8')) : [];
  const measure = (durationSeconds: number) =>
    runLoad({
      url,
      connections: CONNECTIONS,
      durationSeconds,
      requests: [{ path: '/healthz' }],
      pick,
    });
  let load: LoadResult;
  let seconds = SECONDS;
  try {
    load = await measure(SECONDS);
    while (
      gcTrace &&
      heapGrowth(heaps()).verdict === 'UNRESOLVED' &&
      seconds < SECONDS + MORE_SECONDS_AT_MOST
    ) {
      console.log(`${heaps().length} full collections in ${seconds} s, unresolved: 30 s more`);
      load = add(load, await measure(30));
      seconds += 30;
    }
  } finally {
    clearInterval(sampler);
  }
  const every10s = trend.filter((_, i) => i % 5 === 4).map((r) => r.toFixed(0));
  if (trend.length) console.log(`RSS under load every 10 s: ${every10s.join(', ')} MiB`);
  const after = heaps();
  if (after.length) {
    const mb = after.map((h) => h.value.toFixed(1)).join(', ');
    console.log(`heap after each full collection: ${mb} MB`);
  }
  totals = add(totals, load);
  const rss1 = await settledRss(pid);
  const text1 = await scrape(url);
  console.log(
    `after load: RSS ${rss1.toFixed(1)} MiB, ${seriesOf(text1).length} series, /metrics ${kb(text1)} KB, ` +
      // The rate over every measured chunk; autocannon's p99 is the first chunk's.
      `${Math.round(load.total / seconds)} req/s over ${seconds} s, p99 ${load.p99Ms} ms ` +
      `(first ${SECONDS} s)`,
  );
  return { totals, load, trend, heaps: after, rss0, rss1, text0, text1 };
}

const percent = (f: number) => `${f >= 0 ? '+' : ''}${(f * 100).toFixed(1)} %`;

function trendDetail(t: GrowthTrend): string {
  return (
    `heap after ${t.readings} full collections over ${t.windowSeconds.toFixed(0)} s, ` +
    `least-squares trend ${t.start.toFixed(1)} MB ${t.perMinute >= 0 ? '+' : ''}` +
    `${t.perMinute.toFixed(2)} MB/min: growth over the window ${percent(t.growth)} ` +
    `(95 % interval ${percent(t.low)} to ${percent(t.high)})`
  );
}

function memoryDetail(m: MemoryGrowth): string {
  if (m.judgedOn === 'rss') {
    return (
      `RSS (fewer than ${FULL_GCS_NEEDED} full collections), median of first third ` +
      `${m.early.toFixed(1)} -> last third ${m.late.toFixed(1)} MiB (${percent(m.growth)})`
    );
  }
  const unresolved =
    m.verdict === 'UNRESOLVED'
      ? `: not resolved (too few collections: ${m.trend.readings}), the interval spans ` +
        `${GROWTH_LIMIT * 100} %`
      : '';
  return trendDetail(m.trend) + unresolved;
}

/** Seconds of each warm-up and measured run of the comparison with the bare app. */
const VERSUS_BARE_SECONDS = 30;

/**
 * RSS under load of a fresh server, on the part of the mix both apps answer alike (the bare app
 * has no /metrics, /energy, /dashboard or /chat): the median of its 2 s samples after a warm-up.
 */
async function rssUnderSharedMix(options: StartOptions): Promise<number> {
  const server = await startServer(options);
  try {
    const models = await chatModels(server.url).catch(() => []);
    const pick = sharedMixPicker(models);
    await sendEach(server.url, everyRequest(models).filter(servedByBoth));
    const load = { url: server.url, connections: CONNECTIONS, requests: [{ path: '/healthz' }] };
    await runLoad({
      ...load,
      durationSeconds: Math.min(WARMUP_SECONDS, VERSUS_BARE_SECONDS),
      pick,
    });
    const trend: number[] = [];
    const sampler = setInterval(() => trend.push(rssMiB(server.pid)), RSS_EVERY_MS);
    const run = await runLoad({
      ...load,
      durationSeconds: Math.min(SECONDS, VERSUS_BARE_SECONDS),
      pick,
    }).finally(() => clearInterval(sampler));
    const rss = median(trend);
    console.log(
      `${options.name}: RSS ${rss.toFixed(1)} MiB under the shared mix, ${Math.round(run.requestsPerSecond)} req/s`,
    );
    return rss;
  } finally {
    await server.stop();
  }
}

/**
 * The memory bound: carbonscope's RSS at most 1.3 times the app's without it, each a fresh
 * server under the same load. The load is the requests both answer alike: under the whole mix
 * the bare app would answer /metrics, /energy, /dashboard and /chat with cheap 404s, and the
 * comparison would weigh those routes' work, not carbonscope's cost to the routes it measures.
 */
async function memoryAgainstBare(): Promise<Check> {
  console.log('memory against the app without carbonscope, both under the shared mix');
  const mine = await rssUnderSharedMix(carbonscope('soak-shared', true, { LOG_LEVEL: 'info' }));
  const theirs = await rssUnderSharedMix(bare('soak-bare', { LOG_LEVEL: 'info' }));
  return {
    name: `RSS under the shared mix <= ${RSS_VS_BARE}x the app without carbonscope under the same load`,
    verdict: verdict(mine <= RSS_VS_BARE * theirs),
    detail: `median ${mine.toFixed(1)} MiB vs ${theirs.toFixed(1)} MiB (${(mine / theirs).toFixed(2)}x)`,
  };
}

async function main(): Promise<void> {
  const givenUrl = flag('url');
  if (givenUrl) assertLoopback(givenUrl);
  const server = givenUrl
    ? undefined
    : // --trace-gc: its full collections, in the server's output, say what the heap keeps.
      await startServer({
        ...carbonscope('soak', true, { LOG_LEVEL: 'info' }),
        nodeArgs: ['--trace-gc'],
      });
  const url = givenUrl ?? (server as RunningServer).url;
  const pid = server?.pid ?? (flag('pid') ? Number(flag('pid')) : undefined);
  console.log(
    `soak: ${WARMUP_SECONDS} s warm-up + ${SECONDS} s measured, ${CONNECTIONS} connections, ${url}` +
      (server ? `, server pid ${server.pid} ready in ${Math.round(server.readyMs)} ms` : ''),
  );

  let totals: LoadResult | undefined;
  const checks: Check[] = [];
  let trend: number[] = [];
  try {
    const run = await soak(url, pid, server?.logFile);
    totals = run.totals;
    trend = run.trend;
    const { rss0, rss1, text0, text1 } = run;
    const series0 = new Set(seriesOf(text0));
    const series1 = new Set(seriesOf(text1));

    checks.push({
      name: 'no 5xx',
      verdict: verdict(totals.status5xx === 0),
      detail: `${totals.status5xx} of ${totals.total} responses`,
    });
    checks.push({
      name: 'no connection errors or timeouts',
      verdict: verdict(totals.errors === 0),
      detail: `${totals.errors}`,
    });
    if (trend.length >= 6 || run.heaps.length >= FULL_GCS_NEEDED) {
      const memory = memoryGrowth(trend, run.heaps);
      checks.push({
        name: `memory growth after warm-up < ${GROWTH_LIMIT * 100} %`,
        verdict: memory.verdict,
        detail: `${memoryDetail(memory)}; RSS settled ${rss0.toFixed(1)} -> ${rss1.toFixed(1)} MiB`,
      });
    } else {
      console.log(
        'memory not checked: no pid for the server (pass --pid with --url), or too short',
      );
    }
    const added = [...series1].filter((s) => !series0.has(s));
    const removed = [...series0].filter((s) => !series1.has(s));
    checks.push({
      name: 'series unchanged after warm-up',
      verdict: verdict(added.length === 0 && removed.length === 0),
      detail:
        `${series0.size} -> ${series1.size}` +
        (added.length ? `; added ${added.slice(0, 5).join(', ')}` : '') +
        (removed.length ? `; removed ${removed.slice(0, 5).join(', ')}` : ''),
    });
    const growth = text1.length / text0.length - 1;
    checks.push({
      name: '/metrics size within 10 % after warm-up',
      verdict: verdict(growth < 0.1),
      detail: `${kb(text0)} -> ${kb(text1)} KB (${(growth * 100).toFixed(1)} %)`,
    });
    const ready = await fetch(`${url}/readyz`);
    checks.push({
      name: 'still ready',
      verdict: verdict(ready.status === 200),
      detail: `${ready.status}`,
    });
  } finally {
    await server?.stop();
  }
  if (server && trend.length >= 6) checks.push(await memoryAgainstBare());

  const statuses = Object.entries(totals?.statusCounts ?? {})
    .map(([code, n]) => `${code}: ${n}`)
    .join(', ');
  console.log(`responses: ${totals?.total ?? 0} (${statuses})`);
  const errors = logErrors(server);
  if (errors.length) console.log(`error log lines (first ${errors.length}):\n${errors.join('\n')}`);
  for (const c of checks) console.log(`${c.verdict}  ${c.name}: ${c.detail}`);
  const failed = checks.filter((c) => c.verdict === 'FAIL');
  const unresolved = checks.filter((c) => c.verdict === 'UNRESOLVED');
  if (failed.length) console.log(`soak: FAIL (${failed.length} bound broken)`);
  else if (unresolved.length) {
    console.log(
      `soak: UNRESOLVED (${unresolved.map((c) => c.name).join(', ')}): no bound broken, but not ` +
        'a pass either; a longer soak (--seconds=600) reads more full collections',
    );
  } else console.log('soak: PASS');
  // 3, not 0: an unresolved bound is not a pass; not 1: nothing was shown to break.
  process.exitCode = failed.length ? 1 : unresolved.length ? 3 : 0;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(2);
});
