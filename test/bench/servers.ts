/**
 * Servers under test, each in its own process so the load generator and the server do not
 * share an event loop: the built carbonscope service (`dist/src/server.js`) in a chosen
 * configuration, or the bare Koa app (`bare-server.js`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { tempDirUntilExit } from '#library-tests/helpers/temp-dir.js';
import { projectRoot } from '../../src/paths.js';
import { freePort, SERVER_ENTRY } from '../helpers/spawn-server.js';
import { sleep } from './load.js';

export const BARE_ENTRY = join(projectRoot, 'dist', 'test', 'bench', 'bare-server.js');

const READY_TIMEOUT_MS = 30_000;
// An empty working directory, so a developer's .env cannot change what is measured; the servers'
// logs go there too (a long run's are large), and all of it goes when the bench ends.
export const WORK_DIR = tempDirUntilExit('carbonscope-bench-');

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  /** From spawn to the first 200 from /readyz, in milliseconds. */
  readyMs: number;
  /** Where the server's stdout went (its JSON log lines). */
  logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  entry: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
  /** Working directory (where `entry` resolves its packages); a fresh empty one by default. */
  cwd?: string;
  /** A GET that answers 200 once the server is ready; /readyz by default. */
  readyPath?: string;
}

/**
 * V8 settings for a server measured against another: an old generation with room for a
 * benchmark's few minutes and no memory reducer (which collects in full once a process falls
 * idle), so that no major collection happens in it. Each one deoptimized some 80 functions of
 * the HTTP path at once (major-gcs.ts), and the code took 20 s and more to be optimized again:
 * which server had collected last decided which one was dearer. Two identical app servers
 * measured at the same moments read 7 and 18 % apart with V8's defaults (the medians of two runs;
 * the one that had served longer the dearer), 0.1–0.9 % with these (three runs). Memory is
 * measured with V8's defaults.
 */
export const STEADY_V8_ARGS: readonly string[] = [
  '--initial-old-space-size=1024',
  '--no-memory-reducer',
];

/** Settings every measured server shares: loopback, warn-level logs, fast mock LLM. */
export const QUIET_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  MOCK_LLM_LATENCY_MS: '5',
};

/** The real service as users run it; `tracing: false` sets OTEL_TRACES_EXPORTER=none. */
export function carbonscope(
  name: string,
  tracing: boolean,
  env: Record<string, string> = {},
): StartOptions {
  return {
    name,
    entry: SERVER_ENTRY,
    env: { ...QUIET_ENV, ...(tracing ? {} : { OTEL_TRACES_EXPORTER: 'none' }), ...env },
  };
}

export function bare(name: string, env: Record<string, string> = {}): StartOptions {
  return { name, entry: BARE_ENTRY, env: { ...QUIET_ENV, ...env } };
}

export const MINIMAL_KOA_ENTRY = join(
  projectRoot,
  'dist',
  'test',
  'bench',
  'minimal-koa-server.js',
);

/** Koa + @koa/router serving the app's /carbon_intensity JSON, cached: nothing else. */
export function minimalKoa(name: string): StartOptions {
  return { name, entry: MINIMAL_KOA_ENTRY, env: { ...QUIET_ENV } };
}

const EXPRESS_DIR = join(projectRoot, 'examples', 'express');

/**
 * The Express example (a service that knows nothing of carbonscope), as is or with
 * `--import carbonscope/register` exporting to Prometheus on `metricsPort`.
 */
export function express(name: string, metricsPort?: number): StartOptions {
  return {
    name,
    entry: join(EXPRESS_DIR, 'server.js'),
    cwd: EXPRESS_DIR,
    readyPath: '/hello',
    nodeArgs: metricsPort === undefined ? [] : ['--import', 'carbonscope/register'],
    env:
      metricsPort === undefined
        ? {}
        : {
            OTEL_METRICS_EXPORTER: 'prometheus',
            OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
            ENERGY_SOURCE: 'estimate',
            CARBON_INTENSITY: '300',
          },
  };
}

async function isReady(url: string, path = '/readyz'): Promise<boolean> {
  try {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function exitMessage(proc: ChildProcess, logFile: string): string {
  const log = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  return `server exited with ${proc.exitCode}:\n${log}`;
}

/** Spawns the server and polls /readyz every 10 ms until it answers 200 (bounded). */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  const logFile = join(WORK_DIR, `${options.name.replace(/\W+/g, '-')}-${port}.log`);
  const fd = openSync(logFile, 'w');
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry], {
    cwd: options.cwd ?? WORK_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HOST: '127.0.0.1',
      ...options.env,
      PORT: String(port),
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = once(proc, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const deadline = t0 + READY_TIMEOUT_MS;
  while (!(await isReady(url, options.readyPath))) {
    if (proc.exitCode !== null) throw new Error(exitMessage(proc, logFile));
    if (performance.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${options.name} not ready after ${READY_TIMEOUT_MS} ms`);
    }
    await sleep(10);
  }
  const readyMs = performance.now() - t0;
  return {
    name: options.name,
    url,
    pid: proc.pid ?? 0,
    readyMs,
    logFile,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident set size of a process in MiB, from /proc (Linux); NaN where unreadable. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The Prometheus exposition text. */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

/** Series in an exposition: every non-comment, non-empty line, keyed by name and labels. */
export function seriesOf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    // The value (and optional timestamp) follows the last space outside the label set.
    const end = line.lastIndexOf('}');
    const key = end >= 0 ? line.slice(0, end + 1) : line.split(' ')[0];
    out.push(key);
  }
  return out;
}

// Clock ticks per second for /proc/<pid>/stat times; 100 on every Linux this runs on.
const CLOCK_TICKS = 100;

/**
 * CPU time (user + system, all threads) a process has used, in seconds; NaN off Linux. With
 * `children`, also that of the child processes it has waited for (a library that shells out).
 */
export function cpuSeconds(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    const waited = children ? Number(fields[13]) + Number(fields[14]) : 0;
    return (own + waited) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
