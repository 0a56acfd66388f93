// libuv's idle time loses a wait that a signal ends (README, "Per operation", "Waits that a
// signal ends"). For each attribution method and scenario this runs signal-waits-app.mjs under
// the Node given (NODE_BIN, default this one) for RUN_S seconds (6), one connection: /cpu, then
// /wait (or /child), then 100 ms apart. Scenarios: no signal; a SIGUSR2 every 20 ms from here;
// --cpu-prof (SIGPROF every 1 ms); the child spawned with stdio 'pipe', then 'ignore'. Prints
// the operations' part of the process's energy beside the process's CPU while requests ran,
// and each operation's part. Build first (npx tsc -b); loopback only, bounded in time.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const node = process.env.NODE_BIN ?? process.execPath;
const runS = Number(process.env.RUN_S ?? 6);
const profiles = mkdtempSync(join(tmpdir(), 'signal-waits-'));
const scenarios = [
  { name: 'no signal', waiter: '/wait' },
  { name: 'SIGUSR2 every 20 ms', waiter: '/wait', every: 20 },
  { name: '--cpu-prof', waiter: '/wait', flags: ['--cpu-prof', `--cpu-prof-dir=${profiles}`] },
  { name: "child, stdio 'pipe'", waiter: '/childpipe' },
  { name: "child, stdio 'ignore'", waiter: '/child' },
];
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(mode, { name, waiter, every = 0, flags = [] }) {
  const app = spawn(node, [...flags, new URL('signal-waits-app.mjs', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      ENERGY_SOURCE: 'estimate',
      CARBON_INTENSITY: '300',
      OTEL_METRICS_EXPORTER: 'none',
      ENERGY_OPERATION_ATTRIBUTION: mode,
    },
  });
  const port = await new Promise((resolve) =>
    app.stdout.on('data', (d) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve(m[1]);
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  const signals = every > 0 ? setInterval(() => app.kill('SIGUSR2'), every) : undefined;
  const until = Date.now() + runS * 1000;
  while (Date.now() < until) {
    await (await fetch(`${base}/cpu`)).text();
    await (await fetch(base + waiter)).text();
    await pause(100);
  }
  clearInterval(signals);
  await pause(2200); // two samples: every operation settled
  const f = await (await fetch(`${base}/figures`)).json();
  app.kill('SIGKILL');
  const part = (o) => (o.n * o.mJ) / 1000 / f.processJ;
  const ops = f.ops.reduce((s, o) => s + part(o), 0);
  const each = f.ops.map((o) => `${o.op} ${part(o).toFixed(3)} (${o.mJ.toFixed(1)} mJ ×${o.n})`);
  const cpu = (f.withOpsMs / f.ownCpuMs).toFixed(2);
  console.log(`${mode}, ${name}: operations ${ops.toFixed(2)} (CPU ${cpu}); ${each.join(', ')}`);
}

try {
  for (const mode of ['calibrated', 'exact', 'wall']) {
    for (const scenario of scenarios) await run(mode, scenario);
  }
} finally {
  rmSync(profiles, { recursive: true, force: true });
}
