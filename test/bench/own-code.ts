/**
 * carbonscope's own code in a server under load, sampled by Linux perf: its share of the server
 * process's CPU samples, times the process's CPU per request. Two processes (with and without
 * carbonscope) differ here by more than the whole 3 µs budget even when identical (see
 * run.ts's noise floors), and a loop in one process keeps the code hot in caches a server does
 * not; sampling the one process that serves real requests measures the code where it runs.
 *
 * A lower bound: a carbonscope function the JIT inlined into one of Node's (a diagnostics
 * channel's publish, say) is counted as Node's, and what its work costs Node's own code
 * elsewhere (the objects Node builds for the channels' messages) is not counted at all.
 *
 * JIT frames are named from node's jitdump (--perf-prof, then `perf inject --jit`), not its perf
 * map (--perf-basic-prof): the map lists every code object V8 ever put at an address, and perf
 * names a sample after the first, so code made later where GC freed older code took the older
 * code's name. A run whose map named OTel's zipkin exporter and b3 propagator among the hot
 * functions of a server that never loaded them showed it.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type LoadRequest, runLoad } from './load.js';
import { countOwnSamples, type OwnSamples } from './perf-samples.js';
import { cpuSeconds, type StartOptions, startServer, WORK_DIR } from './servers.js';

export interface OwnCodePlan {
  warmupSeconds: number;
  seconds: number;
  connections: number;
  /** perf's sampling frequency (Hz). */
  frequency: number;
}

export interface OwnCodeResult extends OwnSamples {
  requests: number;
  cpuMicrosPerRequest: number;
  /** own / total × cpuMicrosPerRequest. */
  ownMicrosPerRequest: number;
  /** Two standard errors of that figure from sampling alone (own counted as Poisson). */
  samplingErrorMicros: number;
}

/** Throws one line naming what is missing when perf cannot sample here. */
export async function assertPerf(): Promise<void> {
  try {
    await promisify(execFile)('perf', ['--version']);
  } catch {
    throw new Error('perf is not installed (Debian: apt-get install linux-perf)');
  }
}

/**
 * Runs perf with `args` in `dir`; resolves when it exits 0, else throws its first error line.
 * Its build-id cache (~/.debug by default, 1.6 GB after ten runs here) goes in `dir` too.
 */
async function perf(dir: string, args: string[], stdout: number | 'ignore' = 'ignore') {
  const child = spawn('perf', ['--buildid-dir', join(dir, 'buildid'), ...args], {
    cwd: dir,
    stdio: ['ignore', stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) {
    throw new Error(`perf ${args[0]} exited with ${code}: ${stderr.trim().split('\n')[0]}`);
  }
}

/**
 * perf record on `pid` for `seconds`, into `file` (on the monotonic clock, which node's jitdump
 * stamps its code with); resolves when it has written it.
 */
async function record(dir: string, pid: number, seconds: number, frequency: number, file: string) {
  await perf(dir, [
    'record',
    '-k',
    'mono',
    '-F',
    String(frequency),
    '-g',
    '-o',
    file,
    '-p',
    String(pid),
    '--',
    'sleep',
    String(seconds),
  ]);
}

/** Names the JIT frames of `file` from the jitdump, then prints its samples into `out`. */
async function script(dir: string, file: string, out: string): Promise<string> {
  const injected = `${file}.jit`;
  await perf(dir, ['inject', '--jit', '-i', file, '-o', injected]);
  const fd = openSync(out, 'w');
  try {
    await perf(dir, ['script', '-i', injected], fd);
  } finally {
    closeSync(fd);
  }
  return readFileSync(out, 'utf8');
}

/**
 * Starts the server with node's jitdump, loads it for the warm-up, then for `seconds` while
 * perf samples it, and counts the samples of the code under `ownDir`.
 */
export async function ownCodeCost(
  options: StartOptions,
  requests: LoadRequest[],
  plan: OwnCodePlan,
  ownDir: string,
  alsoOwn: readonly string[] = [],
): Promise<OwnCodeResult> {
  await assertPerf();
  const dir = mkdtempSync(join(tmpdir(), 'carbonscope-perf-'));
  const server = await startServer({
    ...options,
    nodeArgs: [...(options.nodeArgs ?? []), '--perf-prof', '--interpreted-frames-native-stack'],
  });
  try {
    const load = (seconds: number) =>
      runLoad({
        url: server.url,
        connections: plan.connections,
        durationSeconds: seconds,
        requests,
      });
    await load(plan.warmupSeconds);
    const file = join(dir, 'perf.data');
    const cpu0 = cpuSeconds(server.pid);
    const [, run] = await Promise.all([
      record(dir, server.pid, plan.seconds, plan.frequency, file),
      load(plan.seconds),
    ]);
    const cpuMicrosPerRequest = ((cpuSeconds(server.pid) - cpu0) * 1e6) / run.total;
    if (run.status2xx === 0 || run.errors + run.status5xx > 0) {
      throw new Error(
        `${options.name}: ${run.status2xx} 2xx, ${run.status5xx} 5xx, ${run.errors} errors`,
      );
    }
    const samples = countOwnSamples(
      await script(dir, file, join(dir, 'perf.txt')),
      ownDir,
      alsoOwn,
    );
    if (samples.total === 0) throw new Error(`perf recorded no samples of ${options.name}`);
    return {
      ...samples,
      requests: run.total,
      cpuMicrosPerRequest,
      ownMicrosPerRequest: (samples.own / samples.total) * cpuMicrosPerRequest,
      samplingErrorMicros: ((2 * Math.sqrt(samples.own)) / samples.total) * cpuMicrosPerRequest,
    };
  } finally {
    const pid = server.pid;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
    // V8 writes its jitdump and a log in the server's working directory (the Express
    // example's is in the repository), and perf inject an object per JIT function beside the
    // dump; none of them removes its files.
    const cwd = options.cwd ?? WORK_DIR;
    const mine = (f: string) =>
      f === `jit-${pid}.dump` ||
      f.startsWith(`jitted-${pid}-`) ||
      (f.startsWith('isolate-') && f.endsWith(`-${pid}-v8.log`));
    for (const f of readdirSync(cwd)) if (mine(f)) rmSync(join(cwd, f), { force: true });
  }
}
