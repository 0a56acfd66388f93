import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { childEnv } from '../helpers/child-env.js';
import { linesOf, runToEnd } from '../helpers/spawn.js';
import { tempDir, writeFakeBinary } from '../unit/energy/sources/helpers.js';

// An application that listened before it started carbonscope had its first requests in no
// figure, and nothing said so (track() before the start was told; requests were not). Real
// Node, real server, real requests, the library as an application imports it.
const INDEX = pathToFileURL(fileURLToPath(new URL('../../src/index.js', import.meta.url))).href;
const REGISTER = fileURLToPath(new URL('../../src/register.js', import.meta.url));
/** The application's SDK, resolved here: the child runs in a temporary directory. */
const SDK_METRICS = import.meta.resolve('@opentelemetry/sdk-metrics');

/** A script that serves `before` requests, starts carbonscope and tracks, then serves one more. */
function script(trackFirst: boolean, before: number): string {
  return `
import { createServer } from 'node:http';
const { start, stop } = await import(${JSON.stringify(INDEX)});
const track = async () => (await start()).trackRequests();
if (${trackFirst}) await track();
const server = createServer((req, res) => res.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + server.address().port + '/';
for (let i = 0; i < ${before}; i++) await (await fetch(url)).text();
if (!${trackFirst}) await track();
await (await fetch(url)).text();
await stop();
server.closeAllConnections();
server.close();
`;
}

const told = (stderr: string) => linesOf(stderr).filter((l) => l.includes('before carbonscope'));

/** What report() prints: the operations' rows and the process's joules. */
interface Reported {
  ops: Array<[string, number, number]>;
  process: number;
}

/**
 * Runs `app` (node `args` first) with an nvidia-smi that answers only once the application has
 * served three requests (serve() writes the file that says so), however slow the machine, and
 * expects them counted, told of by no line, and with their energy: the default instance's
 * meter counts from its create(), before the probe (until 2026-12-06 from after it, and they
 * were counted at 0 J), and they have no more than the process used.
 */
async function expectCountedWhileProbing(args: string[], app: string): Promise<void> {
  const { stdout, stderr } = await runWhileProbing(args, app);
  expect(told(stderr), stderr).to.deep.equal([]);
  const { ops, process: processJoules } = JSON.parse(stdout) as Reported;
  expect(
    ops.map(([name, count]) => [name, count]),
    stderr,
  ).to.deep.equal([['unmatched', 3]]);
  const joules = ops[0]?.[2] ?? 0;
  expect(joules, stdout).to.be.greaterThan(0);
  expect(joules * 3, stdout).to.be.at.most(processJoules);
}

/** Runs `app` as expectCountedWhileProbing does; its output, once it exited with 0. */
async function runWhileProbing(
  args: string[],
  app: string,
): Promise<{ stdout: string; stderr: string }> {
  const { dir, cleanup } = tempDir('requests-before-start');
  try {
    const line = JSON.stringify(
      '0, GPU-d8e27244-0719-2aa8-0140-8c7d084b3152, NVIDIA H200, 77.36\n',
    );
    const served = JSON.stringify(join(dir, 'served'));
    writeFakeBinary(
      dir,
      'nvidia-smi',
      `const wait = setInterval(() => { if (!require('node:fs').existsSync(${served})) return; clearInterval(wait); process.stdout.write(${line}); setInterval(() => process.stdout.write(${line}), 1000); }, 20);`,
    );
    const helpers = `
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
async function serve() {
  const server = createServer((req, res) => res.end('ok'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = 'http://127.0.0.1:' + server.address().port + '/';
  for (let i = 0; i < 3; i++) await (await fetch(url)).text();
  writeFileSync(${served}, '');
  return server;
}
async function report(server, cs) {
  await cs.firstSample();
  const { operations, totals } = cs.snapshot();
  const ops = operations.map((o) => [o.operation, o.count, o.joules]);
  console.log(JSON.stringify({ ops, process: totals.process.joules }));
  server.closeAllConnections();
  server.close();
}
`;
    const { code, stdout, stderr } = await runToEnd(
      process.execPath,
      [...args, '--input-type=module', '-e', helpers + app],
      childEnv({
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        CARBON_INTENSITY: '300',
        OTEL_METRICS_EXPORTER: 'none',
      }),
      { killAfterMs: 20_000 },
    );
    expect(code, stderr).to.equal(0);
    return { stdout, stderr };
  } finally {
    cleanup();
  }
}

async function run(trackFirst: boolean, before: number): Promise<string[]> {
  const { code, stderr } = await runToEnd(
    process.execPath,
    ['--input-type=module', '-e', script(trackFirst, before)],
    childEnv({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
    { killAfterMs: 20_000 },
  );
  expect(code, stderr).to.equal(0);
  return told(stderr);
}

describe('HTTP requests served before carbonscope tracked them', function () {
  this.timeout(30_000);

  it('are told in one line as tracking begins', async () => {
    const lines = await run(false, 3);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^carbonscope: warning: HTTP requests were served before carbonscope began tracking them \(the first \d+ ms before\): they are in no request's figure; begin tracking before the server listens \(await start\(\) then cs\.trackRequests\(\)/,
    );
  });

  // register tracks from its own start, before its power sources are probed: an nvidia-smi slow
  // to its first line (a driver without persistence mode, a second or more) left the requests
  // of that time (a health probe's) in no figure, and a warning at every start that nothing the
  // user did could silence. Here it answers only once the application has served its requests
  // (a file says so), however slow the machine. They are counted, with their energy: the
  // meter's first interval runs from register's start, before the probe (until 2026-12-06 it
  // began after it, and they were counted at 0 J), and no more than the process used.
  it('are counted under register, whose tracking begins before it probes, and told of by no line', async () => {
    const app = `
const server = await serve();
const { start } = await import(${JSON.stringify(INDEX)});
await report(server, await start());
`;
    await expectCountedWhileProbing(['--import', REGISTER], app);
  });

  // The instrumentation began tracking only once started: under the slow nvidia-smi above, the
  // requests of its start were in no figure, and the application that built its SDK before
  // listening, as told, was warned at every start (1 s before; 14 answered, 0 counted, a probe
  // every 100 ms through a 1.2 s nvidia-smi). Its start tracks from create() on, as register's,
  // and its meter counts from there too (startDefault's early baseline): they have their energy.
  it('are counted under the instrumentation, whose tracking begins before it probes, and told of by no line', async () => {
    const app = `
const { CarbonscopeInstrumentation, start } = await import(${JSON.stringify(INDEX)});
const instrumentation = new CarbonscopeInstrumentation();
const server = await serve();
await instrumentation.ready();
await report(server, await start());
`;
    await expectCountedWhileProbing([], app);
  });

  // With `http: true`, its `http.server.request.duration` missed them: they ended during the
  // probe, before it bound to the application's meter (1 of 15 recorded where its energy
  // histogram had 15, a probe every 100 ms through a 1.2 s nvidia-smi). The tracker keeps them
  // until the baseline, and the binding records them first.
  it("are in the instrumentation's http.server.request.duration (http: true) as in its energy histogram", async () => {
    const app = `
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from ${JSON.stringify(SDK_METRICS)};
const { CarbonscopeInstrumentation, start } = await import(${JSON.stringify(INDEX)});
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 });
const provider = new MeterProvider({ readers: [reader] });
const instrumentation = new CarbonscopeInstrumentation({ http: true });
instrumentation.setMeterProvider(provider);
const server = await serve();
await instrumentation.ready();
const cs = await start();
await cs.firstSample();
await reader.forceFlush();
const counts = {};
for (const { scopeMetrics } of exporter.getMetrics()) {
  for (const { metrics } of scopeMetrics) {
    for (const { descriptor, dataPoints } of metrics) {
      counts[descriptor.name] = dataPoints.reduce((sum, p) => sum + p.value.count, 0);
    }
  }
}
console.log(JSON.stringify([counts['http.server.request.duration'], counts['carbonscope.operation.energy']]));
server.closeAllConnections();
server.close();
await provider.shutdown();
`;
    const { stdout, stderr } = await runWhileProbing([], app);
    expect(told(stderr), stderr).to.deep.equal([]);
    expect(JSON.parse(stdout), stderr).to.deep.equal([3, 3]);
  });

  // Its config's `trackRequests: false` keeps the tracking to its ask once started: those
  // requests are in no figure, and told of.
  it('are not counted under an instrumentation given trackRequests: false, and told of', async () => {
    const app = `
const { CarbonscopeInstrumentation, start } = await import(${JSON.stringify(INDEX)});
const instrumentation = new CarbonscopeInstrumentation({ trackRequests: false });
const server = await serve();
await instrumentation.ready();
await report(server, await start());
`;
    const { stdout, stderr } = await runWhileProbing([], app);
    expect(told(stderr), stderr).to.have.length(1);
    expect((JSON.parse(stdout) as Reported).ops, stderr).to.deep.equal([]);
  });

  // Disabled before its start ended, it gave back a tracking its start had not begun: made at
  // once and stopped, it told of requests served before, though none was to be tracked.
  it('are no line where the instrumentation, given trackRequests: false, was disabled before its start ended', async () => {
    const app = `
import { createServer } from 'node:http';
const { CarbonscopeInstrumentation, start, stop } = await import(${JSON.stringify(INDEX)});
const server = createServer((req, res) => res.end('ok'));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text();
const instrumentation = new CarbonscopeInstrumentation({ trackRequests: false });
instrumentation.disable();
await start();
await stop();
server.closeAllConnections();
server.close();
`;
    const { code, stderr } = await runToEnd(
      process.execPath,
      ['--input-type=module', '-e', app],
      childEnv({
        ENERGY_SOURCE: 'estimate',
        CARBON_INTENSITY: '300',
        OTEL_METRICS_EXPORTER: 'none',
      }),
      { killAfterMs: 20_000 },
    );
    expect(code, stderr).to.equal(0);
    expect(told(stderr), stderr).to.deep.equal([]);
  });

  it('are no line where tracking began before the server listened, or no request came', async () => {
    expect(await run(true, 3)).to.deep.equal([]);
    expect(await run(false, 0)).to.deep.equal([]);
  });
});
