/**
 * CodeCarbon side by side: what per-request tracking costs a small HTTP server with CodeCarbon
 * (Python) and with carbonscope (Node), measured in the same run under the same load.
 *   - CodeCarbon: test/bench/codecarbon_server.py (standard library http.server, one cheap
 *     route) bare, with `@track_emissions` on its handler, and with the task API (one
 *     OfflineEmissionsTracker, start_task()/stop_task() per request); codecarbon==3.3.2 in a
 *     virtual environment under ~/.cache/carbonscope/codecarbon-venv (made and filled once,
 *     reused while the version matches; CODECARBON_VENV and PYTHON override), offline.
 *   - carbonscope: examples/express/server.js (GET /hello) bare and with
 *     `--import carbonscope/register` (its own Prometheus exporter on a free loopback port,
 *     ENERGY_SOURCE=estimate, CARBON_INTENSITY=300).
 * Every server is checked afterwards to have reported on every request it answered.
 * `npm run bench` runs it as one group of rows; alone: `npm run build &&
 * node dist/test/bench/codecarbon.js [--quick]`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { METRICS, prometheusName } from 'carbonscope';
import { parseSamples } from '#library-tests/helpers/metrics.js';
import { projectRoot } from '../../src/paths.js';
import { freePort, spawnUntil } from '../helpers/spawn-server.js';
import { waitFor } from '../helpers/wait.js';
import { fmt, fmtInt } from './format.js';
import { median } from './load.js';
import { alternatingRounds, type Contender, type RoundResult, type RoundsPlan } from './rounds.js';
import { rssMiB, scrape } from './servers.js';

export const CODECARBON_VERSION = '3.3.2';

const SERVER_PY = join(projectRoot, 'test', 'bench', 'codecarbon_server.py');
const EXPRESS_DIR = join(projectRoot, 'examples', 'express');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

const exec = promisify(execFile);

/** The last non-empty line of a failed command's output, for a one-line error. */
function lastLine(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  const text = `${e.stderr ?? ''}\n${e.stdout ?? ''}`.trim() || (e.message ?? String(err));
  return text.split('\n').filter(Boolean).pop() ?? '';
}

/** The virtual environment's python with codecarbon at CODECARBON_VERSION, installed if need be. */
export async function codecarbonPython(log: (message: string) => void): Promise<string> {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const venv = process.env.CODECARBON_VENV ?? join(cache, 'carbonscope', 'codecarbon-venv');
  const python = join(venv, 'bin', 'python');
  const system = process.env.PYTHON ?? 'python3';
  if (!existsSync(python)) {
    log(`creating ${venv}`);
    mkdirSync(join(venv, '..'), { recursive: true });
    try {
      await exec(system, ['-m', 'venv', venv], { timeout: 120_000 });
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') {
        throw new Error(`the CodeCarbon bench needs ${system} (Python 3 with venv) on PATH`);
      }
      rmSync(venv, { recursive: true, force: true });
      throw new Error(`${system} -m venv failed (is python3-venv installed?): ${lastLine(err)}`);
    }
  }
  const version = async () => {
    try {
      const script = 'import importlib.metadata as m; print(m.version("codecarbon"))';
      return (await exec(python, ['-c', script], { timeout: 60_000 })).stdout.trim();
    } catch {
      return '';
    }
  };
  if ((await version()) !== CODECARBON_VERSION) {
    log(`installing codecarbon==${CODECARBON_VERSION} into ${venv} (once; about a minute)`);
    try {
      await exec(
        join(venv, 'bin', 'pip'),
        ['install', '--quiet', '--disable-pip-version-check', `codecarbon==${CODECARBON_VERSION}`],
        { timeout: 900_000, maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      throw new Error(`pip could not install codecarbon==${CODECARBON_VERSION}: ${lastLine(err)}`);
    }
    const installed = await version();
    if (installed !== CODECARBON_VERSION) {
      throw new Error(
        `codecarbon ${installed || 'missing'} in ${venv} after installing ${CODECARBON_VERSION}`,
      );
    }
  }
  return python;
}

// --- the servers ---------------------------------------------------------------------------

type Tool = 'CodeCarbon' | 'carbonscope';

interface Server extends Contender {
  tool: Tool;
  instrumented: boolean;
  /** How many requests the tool reported on (for an instrumented server). */
  reported(): Promise<number>;
  stop(): Promise<void>;
}

interface Spec {
  key: string;
  label: string;
  tool: Tool;
  instrumented: boolean;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  path: string;
  /** Resolves once the server is ready to be measured, if that comes after the port opens. */
  ready?: (url: string) => Promise<void>;
  reported?: (url: string) => Promise<number>;
}

async function start(spec: Spec): Promise<Server> {
  const spawned = await spawnUntil(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    waitFor: /^listening \d+/,
    timeoutMs: START_TIMEOUT_MS,
  });
  const stop = async () => {
    const timer = setTimeout(() => spawned.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await spawned.stop();
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const port = /^listening (\d+)/.exec(
      spawned.stdout.find((l) => l.startsWith('listening')) ?? '',
    )?.[1];
    const url = `http://127.0.0.1:${port}`;
    await spec.ready?.(url);
    return {
      key: spec.key,
      label: spec.label,
      tool: spec.tool,
      instrumented: spec.instrumented,
      url,
      pid: spawned.proc.pid ?? 0,
      requests: [{ path: spec.path }],
      reported: () => (spec.reported ? spec.reported(url) : Promise.resolve(Number.NaN)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

const until = (what: string, ok: () => Promise<boolean>) => waitFor(what, ok, 20_000, 100);

/**
 * One request before the load. Concurrent first calls of `@track_emissions` race to create
 * its CSV file (each finds it empty and writes it anew), losing rows: CodeCarbon's, not the
 * bench's, but it would fail the check that every request was reported on.
 */
async function firstRequest(url: string): Promise<void> {
  const res = await fetch(`${url}/work`, { signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}/work answered ${res.status}`);
}

interface PythonStats {
  served: number;
  tracked: number | null;
  refusedConnections: string[];
}

/** What the Python server says it served and CodeCarbon reported; fails on any refused connection. */
async function pythonReported(url: string): Promise<number> {
  const res = await fetch(`${url}/stats`, { signal: AbortSignal.timeout(10_000) });
  const stats = (await res.json()) as PythonStats;
  if (stats.refusedConnections.length > 0) {
    throw new Error(`CodeCarbon tried to leave loopback: ${stats.refusedConnections.join(', ')}`);
  }
  return stats.tracked ?? Number.NaN;
}

/** carbonscope's count of /hello operations in its own exposition. */
async function helloOperations(metricsUrl: string): Promise<number> {
  return parseSamples(await scrape(metricsUrl))
    .filter(
      (s) =>
        s.name === `${prometheusName(METRICS.operationEnergy)}_count` &&
        s.labels.carbonscope_operation === '/hello',
    )
    .reduce((sum, s) => sum + s.value, 0);
}

async function specs(python: string, work: string): Promise<Spec[]> {
  const pythonEnv = {
    PATH: process.env.PATH ?? '',
    // A home of its own, so no ~/.codecarbon.config can change what is measured.
    HOME: work,
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const py = (variant: string, label: string): Spec => {
    const out = join(work, variant);
    mkdirSync(out, { recursive: true });
    return {
      key: `python-${variant}`,
      label,
      tool: 'CodeCarbon',
      instrumented: variant !== 'bare',
      command: python,
      args: [SERVER_PY, variant, out],
      cwd: out,
      env: pythonEnv,
      path: '/work',
      ready: firstRequest,
      reported: pythonReported,
    };
  };
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const nodeEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    PORT: '0',
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    ENERGY_SOURCE: 'estimate',
    CARBON_INTENSITY: '300',
  };
  const express = (key: string, label: string, importFlag: string[]): Spec => ({
    key,
    label,
    tool: 'carbonscope',
    instrumented: importFlag.length > 0,
    command: process.execPath,
    args: [...importFlag, 'server.js'],
    // The example's folder, so `carbonscope/register` resolves as it does for its users.
    cwd: EXPRESS_DIR,
    env: nodeEnv,
    path: '/hello',
  });
  return [
    py('bare', 'Python http.server GET /work, bare'),
    py('decorator', 'Python + CodeCarbon @track_emissions on the handler'),
    py('task', 'Python + CodeCarbon task API (start_task/stop_task per request)'),
    express('express-bare', 'Express GET /hello, bare', []),
    {
      ...express('express-carbonscope', 'Express + --import carbonscope/register', [
        '--import',
        'carbonscope/register',
      ]),
      // Its metrics exist from its first sample on: from then on every request is tracked.
      ready: () =>
        until('carbonscope metrics', async () => {
          try {
            return (await scrape(metricsUrl)).includes(prometheusName(METRICS.hostEnergy));
          } catch {
            return false;
          }
        }),
      reported: () => helloOperations(metricsUrl),
    },
  ];
}

// --- the figures ---------------------------------------------------------------------------

export interface SideBySideRow {
  measure: string;
  value: string;
}

export interface SideBySide {
  rows: SideBySideRow[];
  raw: Record<string, unknown>;
}

function spreadOf(values: number[]): number {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

function rowsFor(
  servers: Server[],
  runs: Map<string, RoundResult[]>,
  rss: Map<string, number>,
): SideBySideRow[] {
  const rows: SideBySideRow[] = [];
  for (const s of servers) {
    const mine = runs.get(s.key) ?? [];
    const rps = median(mine.map((r) => r.requestsPerSecond));
    const cpu = median(mine.map((r) => r.cpuMicrosPerRequest));
    rows.push({
      measure: `${s.label}: req/s (round spread), p99, server CPU per request, RSS after`,
      value:
        `${fmtInt(rps)} req/s (±${fmt((spreadOf(mine.map((r) => r.requestsPerSecond)) * 100) / 2)} %), ` +
        `p99 ${fmt(median(mine.map((r) => r.p99Ms)), 1)} ms, ${fmt(cpu, 1)} µs CPU, ${fmt(rss.get(s.key) ?? Number.NaN, 1)} MiB`,
    });
    if (!s.instrumented) continue;
    const bare = servers.find((b) => b.tool === s.tool && !b.instrumented);
    const base = runs.get(bare?.key ?? '') ?? [];
    const baseCpu = median(base.map((r) => r.cpuMicrosPerRequest));
    // Each round's runs are close in time, so a per-round ratio cancels most machine noise.
    const ratio = median(mine.map((r, i) => r.requestsPerSecond / base[i].requestsPerSecond));
    rows.push({
      measure: `${s.label}: throughput / bare (median of per-round ratios), CPU added per request`,
      value: `${fmt(ratio * 100, 1)} %, +${fmt(cpu - baseCpu, 1)} µs (${fmt((cpu / baseCpu) * 100, 0)} % of bare's)`,
    });
  }
  return rows;
}

/** Installs CodeCarbon if need be, runs the five servers in alternating rounds, checks, reports. */
export async function codecarbonSideBySide(
  plan: RoundsPlan,
  log: (message: string) => void,
): Promise<SideBySide> {
  const python = await codecarbonPython(log);
  const work = mkdtempSync(join(tmpdir(), 'carbonscope-codecarbon-'));
  const servers: Server[] = [];
  try {
    for (const spec of await specs(python, work)) {
      servers.push(await start(spec));
      log(`started ${spec.key}`);
    }
    const { runs, answered } = await alternatingRounds(servers, plan, log);
    const rss = new Map(servers.map((s) => [s.key, rssMiB(s.pid)]));
    const reports: Record<string, { answered: number; reported: number }> = {};
    for (const s of servers.filter((x) => x.instrumented)) {
      const done = answered.get(s.key) ?? 0;
      // A request answered just before the load stopped may still be on its way into the count.
      let reported = Number.NaN;
      await until(`${s.label} to report on all ${done} requests it answered`, async () => {
        reported = await s.reported();
        return reported >= done;
      });
      reports[s.key] = { answered: done, reported };
      log(`${s.key}: reported on ${reported} requests, ${done} answered`);
    }
    return {
      rows: rowsFor(servers, runs, rss),
      raw: {
        codecarbon: CODECARBON_VERSION,
        plan,
        runs: Object.fromEntries(runs),
        reports,
        rssMiBAfter: Object.fromEntries(rss),
      },
    };
  } finally {
    for (const s of servers) await s.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

// --- alone ---------------------------------------------------------------------------------

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const plan: RoundsPlan = quick
    ? { warmupSeconds: 1, rounds: 2, seconds: 2, connections: 20 }
    : { warmupSeconds: 3, rounds: 5, seconds: 8, connections: 20 };
  const log = (message: string) => process.stderr.write(`[codecarbon] ${message}\n`);
  const { rows, raw } = await codecarbonSideBySide(plan, log);
  const width = Math.max(...rows.map((r) => r.measure.length));
  for (const r of rows) console.log(`${r.measure.padEnd(width)}  ${r.value}`);
  console.log(JSON.stringify(raw.reports));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`codecarbon bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
