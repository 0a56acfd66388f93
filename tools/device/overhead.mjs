// carbonscope's cost per request on a quiet machine with cores to spare: each server on a core of
// its own, each loaded by two autocannon processes on cores of their own, all at the same moments
// (simultaneous rounds, as test/bench/simultaneous-rounds.ts does on one shared core at home).
// Server CPU from /proc around each round. Usage: node overhead.mjs LIB_DIR OUT_FILE [rounds]
import { execFileSync, fork, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const [lib, outFile, roundsArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 10);
const SECONDS = 5;
const WARMUP = 10;
const CONNECTIONS = 8;
const V8 = ['--initial-old-space-size=1024', '--no-memory-reducer'];
const REGISTER = ['--import', 'carbonscope/register'];
const registerEnv = (port) => ({
  OTEL_METRICS_EXPORTER: 'prometheus',
  OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
  ENERGY_SOURCE: 'estimate',
  CARBON_INTENSITY: '300',
});
const VARIANTS = [
  { key: 'http', file: 'hello-http.mjs', args: [] },
  { key: 'httpAgain', file: 'hello-http.mjs', args: [] },
  { key: 'httpRegister', file: 'hello-http.mjs', args: REGISTER, register: true },
  { key: 'koa', file: 'hello-koa.mjs', args: [] },
  { key: 'koaAgain', file: 'hello-koa.mjs', args: [] },
  { key: 'koaRegister', file: 'hello-koa.mjs', args: REGISTER, register: true },
].filter((v) => !process.env.VARIANTS || process.env.VARIANTS.split(',').includes(v.key));

const cores = availableParallelism();
const needed = VARIANTS.length * 3 + 1;
const pinned = cores >= needed && hasTaskset();
const onCore = (core, argv) =>
  pinned ? ['taskset', ['-c', String(core), ...argv]] : [argv[0], argv.slice(1)];

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

async function ready(url) {
  for (let i = 0; i < 500; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} not ready`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const servers = [];
const loaders = [];
try {
  let core = 0;
  for (const v of VARIANTS) {
    const port = await freePort();
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port) };
    const metricsPort = v.register ? await freePort() : undefined;
    if (metricsPort) Object.assign(env, registerEnv(metricsPort));
    const [cmd, argv] = onCore(core++, [process.execPath, ...V8, ...v.args, join(lib, v.file)]);
    const proc = spawn(cmd, argv, { cwd: lib, env, stdio: ['ignore', 'inherit', 'inherit'] });
    const url = `http://127.0.0.1:${port}/hello`;
    servers.push({ ...v, proc, url, metricsPort });
    await ready(url);
  }
  for (const s of servers) {
    s.loaders = [];
    for (let k = 0; k < 2; k++) {
      const child = fork(join(lib, 'loadgen.mjs'), [s.url, String(CONNECTIONS)], {
        cwd: lib,
        execPath: pinned ? 'taskset' : process.execPath,
        execArgv: pinned ? ['-c', String(core++), process.execPath] : [],
      });
      s.loaders.push(child);
      loaders.push(child);
    }
  }
  const round = (seconds) =>
    Promise.all(
      servers.map(async (s) => {
        const cpu0 = cpuSeconds(s.proc.pid);
        const counts = await Promise.all(
          s.loaders.map(
            (l) =>
              new Promise((resolve) => {
                l.once('message', resolve);
                l.send({ seconds });
              }),
          ),
        );
        const cpu = cpuSeconds(s.proc.pid) - cpu0;
        const ok = counts.reduce((a, c) => a + c.ok, 0);
        const other = counts.reduce((a, c) => a + c.other, 0);
        return {
          key: s.key,
          ok,
          other,
          cpuSeconds: cpu,
          usPerRequest: (cpu * 1e6) / ok,
          rps: ok / seconds,
        };
      }),
    );
  await round(WARMUP);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const result = await round(SECONDS);
    rounds.push(result);
    console.log(
      `round ${r + 1}: ${result.map((x) => `${x.key} ${x.rps.toFixed(0)}/s ${x.usPerRequest.toFixed(2)} µs (core ${((x.cpuSeconds / SECONDS) * 100).toFixed(0)} %)`).join('; ')}`,
    );
  }
  const of = (key) => rounds.map((r) => r.find((x) => x.key === key));
  const pairs = [
    ['httpAgain', 'http', 'floor: a second identical http server'],
    ['httpRegister', 'http', 'node:http + --import carbonscope/register'],
    ['koaAgain', 'koa', 'floor: a second identical Koa server'],
    ['koaRegister', 'koa', 'Koa + @koa/router + --import carbonscope/register'],
    ['koa', 'http', 'Koa + @koa/router vs node:http (for scale)'],
  ];
  const summary = pairs
    .filter(([a, b]) => of(a)[0] && of(b)[0])
    .map(([subject, base, label]) => {
      const a = of(subject);
      const b = of(base);
      return {
        label,
        subjectMedianUs: median(a.map((x) => x.usPerRequest)),
        baseMedianUs: median(b.map((x) => x.usPerRequest)),
        addedUs: median(a.map((x, i) => x.usPerRequest - b[i].usPerRequest)),
        throughputRatio: median(a.map((x, i) => x.rps / b[i].rps)),
        cpuShareSubject: median(a.map((x) => x.cpuSeconds / SECONDS)),
      };
    });
  for (const s of summary) {
    console.log(
      `${s.label}: ${s.subjectMedianUs.toFixed(2)} vs ${s.baseMedianUs.toFixed(2)} µs, added ${s.addedUs.toFixed(2)} µs (median of round differences), throughput ${(s.throughputRatio * 100).toFixed(1)} %, subject's core ${(s.cpuShareSubject * 100).toFixed(0)} % busy`,
    );
  }
  // The register servers' own exposition: that they exported, and what they counted.
  const exported = {};
  for (const s of servers.filter((x) => x.metricsPort)) {
    const text = await (await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`)).text();
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const count = lines.find(
      (l) =>
        l.startsWith('carbonscope_operations_total') ||
        l.startsWith('carbonscope_operation_energy_joules_count'),
    );
    exported[s.key] = { series: lines.length, sample: count ?? null };
    console.log(`${s.key} /metrics: ${lines.length} series; ${count ?? 'no operation count'}`);
  }
  writeFileSync(
    outFile,
    JSON.stringify({ cores, pinned, node: process.version, rounds, summary, exported }, null, 1),
  );
} finally {
  for (const l of loaders) l.disconnect?.();
  for (const s of servers) s.proc.kill('SIGTERM');
}
