// The app of signal-waits.mjs: a node:http service metered in-process by carbonscope (start(),
// the estimate). GET /cpu burns CPU_MS on the main thread, GET /wait awaits WAIT_MS on a timer,
// GET /child awaits a `sleep` child spawned with stdio 'ignore' (its exit, a SIGCHLD, is the only
// wake), GET /childpipe the same with 'pipe'. A job of no operation burns BG_MS every BG_EVERY
// ms while no request runs. The app counts the process's CPU while requests run (the figure the
// operations' part of the energy should follow); GET /figures answers it with the snapshot's.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';

const { start, setRoute, snapshot } = await import(
  new URL('../../packages/carbonscope/dist/src/index.js', import.meta.url).href
);
const CPU_MS = Number(process.env.CPU_MS ?? 10);
const WAIT_MS = Number(process.env.WAIT_MS ?? 200);
const BG_MS = Number(process.env.BG_MS ?? 10);
const BG_EVERY = Number(process.env.BG_EVERY ?? 50);
const burn = (ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const exited = (child, event) => new Promise((resolve) => child.on(event, resolve));

process.on('SIGUSR2', () => {});
const cs = await start();
cs.trackRequests();
let running = 0;
let from = 0;
let withOps = 0;
setInterval(() => {
  if (running === 0) burn(BG_MS);
}, BG_EVERY);
const cpu0 = cpuNow();

const server = createServer(async (req, res) => {
  if (req.url === '/figures') {
    const s = snapshot();
    const ops = s.operations.map((o) => ({ op: o.operation, n: o.count, mJ: o.joules * 1000 }));
    const ownCpuMs = cpuNow() - cpu0;
    res.end(
      JSON.stringify({ ops, processJ: s.totals.process.joules, ownCpuMs, withOpsMs: withOps }),
    );
    return;
  }
  if (running++ === 0) from = cpuNow();
  const sleep = ['sleep', [String(WAIT_MS / 1000)]];
  if (req.url === '/cpu') {
    setRoute(req, '/cpu');
    burn(CPU_MS);
  } else if (req.url === '/wait') {
    setRoute(req, '/wait');
    await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
  } else if (req.url === '/child') {
    setRoute(req, '/child');
    await exited(spawn(...sleep, { stdio: 'ignore' }), 'exit');
  } else if (req.url === '/childpipe') {
    setRoute(req, '/child');
    await exited(spawn(...sleep, { stdio: 'pipe' }), 'close');
  }
  res.on('finish', () => {
    if (--running === 0) withOps += cpuNow() - from;
  });
  res.end('done');
});
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
