import { syncBuiltinESMExports } from 'node:module';
import { type Clock, install } from '@sinonjs/fake-timers';
import { expect } from 'chai';
import { measure, start, stop } from '../../../src/api.js';
import { spawnLineChild } from '../../../src/energy/sources/line-child.js';
import { tempDir, writeFakeBinary } from '../energy/sources/helpers.js';

type ClocksModule = typeof import('../../../src/clocks.js');
type TimersModule = typeof import('../../../src/real-timers.js');
type GridClientModule = typeof import('../../../src/grid/electricity-maps-client.js');

/** A module of carbonscope's loaded afresh, as it loads after a runner's fakes are in place. */
async function loadedAfresh<M>(path: string, copy = 'after-fakes'): Promise<M> {
  return (await import(`${new URL(path, import.meta.url).href}?${copy}`)) as M;
}

// The test's own bound on a wait, read before any fake is installed.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const BOUND_MS = 5000;

/** `promise`, or a rejection once it has waited BOUND_MS of real time: a hang fails the test. */
function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = realSetTimeout(
      () => reject(new Error(`${what}: no answer in ${BOUND_MS} ms`)),
      BOUND_MS,
    );
  });
  return Promise.race([promise, late]).finally(() => realClearTimeout(timer));
}

/** What jest and Vitest fake by default: timers and clocks, not queueMicrotask or nextTick. */
const TIMERS_NOT_MICROTASKS = [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'Date',
  'hrtime',
  'performance',
] as const;

const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;

/** Busy by count: under fake timers performance.now(), Date and hrtime stand still. */
function spin(): number {
  let x = 0;
  for (let i = 0; i < 2e7; i++) x += i & 1;
  return x;
}

// A test runner's fake timers (jest.useFakeTimers() and vi.useFakeTimers() are this library)
// replace the globals, and the `node:timers` module's functions, under an application that
// started carbonscope: its sampler is not the test's to run, nor to wait for.
describe('under a test runner fake timers (@sinonjs/fake-timers)', () => {
  let clock: Clock | undefined;

  afterEach(async () => {
    clock?.uninstall();
    clock = undefined;
    syncBuiltinESMExports();
    await bounded(stop(), 'stop()');
  });

  for (const order of ['started before', 'started after'] as const) {
    it(`${order} they are installed, arms none of them: runAll() ends, as jest.runAllTimers() must`, async () => {
      if (order === 'started before') await start({ env: ENV });
      clock = install();
      const cs = await start({ env: ENV });
      await bounded(cs.firstSample(), 'firstSample()');
      expect(clock.countTimers()).to.equal(0);
      // Before: "Aborting after running 1000 timers, assuming an infinite loop!" (jest: 100000).
      expect(clock.runAll()).to.be.a('number');
    });
  }

  it('measure() resolves with its footprint while the test holds the clock still', async () => {
    const cs = await start({ env: ENV });
    clock = install();
    await bounded(cs.firstSample(), 'firstSample()');
    // Before: it waited for a sample of the fake clock's, which never came: the test hung.
    const { result, footprint } = await bounded(measure('job', spin), 'measure()');
    expect(result).to.equal(1e7);
    expect(footprint.durationSeconds).to.be.greaterThan(0);
    expect(footprint.joules).to.be.greaterThan(0);
    expect(footprint.provisional).to.equal(false);
  });

  it('three hours of fake time take no sample: the figures are of real time', async () => {
    clock = install();
    const cs = await start({ env: ENV });
    let samples = 0;
    const off = cs.onSample(() => {
      samples++;
    });
    // Before: 10,800 samples of a second each (1.9 s of CPU under jest), and the process's joules
    // grew by 79 J, its idle share of three hours no one lived.
    clock.tick(3 * 3600e3);
    off();
    expect(samples).to.equal(0);
  });

  // jest's `fakeTimers: { enableGlobally: true }`: everything faked before the app loads.
  it('installed before carbonscope loads, are seen through: its clock moves, its timers fire', async () => {
    clock = install();
    const { monotonicClock } = await loadedAfresh<ClocksModule>('../../../src/clocks.js');
    const timers = await loadedAfresh<TimersModule>('../../../src/real-timers.js');
    const from = monotonicClock();
    spin();
    // Before: process.hrtime was the fake's, standing still, and measure() waited on it forever.
    expect(monotonicClock()).to.be.greaterThan(from);
    await bounded(new Promise((resolve) => timers.setTimeout(resolve, 1)), 'setTimeout');
    await bounded(new Promise((resolve) => timers.setImmediate(resolve)), 'setImmediate');
    expect(clock.countTimers()).to.equal(0);
  });

  // install() of @sinonjs/fake-timers 15 fakes performance.now on node:perf_hooks' own object.
  it("installed before carbonscope loads, leave its clock on performance.now()'s scale", async () => {
    const { monotonicClock: loadedFirst } = await import('../../../src/clocks.js');
    clock = install();
    const { monotonicClock } = await loadedAfresh<ClocksModule>(
      '../../../src/clocks.js',
      'on-fake-performance',
    );
    clock.uninstall();
    clock = undefined;
    // One clock: its reading falls between two of the other's, however long a loaded machine
    // holds the thread between them. Before: behind by the process's age at the load (10.8 s
    // seen), the fake's performance.now() having stood at 0. The 1 ms: each copy's origin is
    // the midpoint of a pair of reads.
    const before = loadedFirst();
    const reading = monotonicClock();
    const after = loadedFirst();
    expect(reading).to.be.within(before - 1, after + 1);
  });

  // The grid client's back-off between attempts: an upstream 503 under a test runner that faked
  // the timers before the app loaded left the retry waiting on fake time.
  it('installed before carbonscope loads, a grid retry backs off on real time', async () => {
    // Microtasks stay real, as Vitest's and jest's defaults leave them: under sinon's own default
    // (queueMicrotask faked) a fetch body's reader hands its first chunk over again and again.
    clock = install({ now: Date.now(), toFake: [...TIMERS_NOT_MICROTASKS] });
    // sinon fakes node:timers/promises on its CommonJS object; an import sees that where the
    // loader reads a builtin's exports when it is imported (jest's ESM registry builds each from
    // require()), which Node's own loader does once this is called.
    syncBuiltinESMExports();
    const { createElectricityMapsClient } = await loadedAfresh<GridClientModule>(
      '../../../src/grid/electricity-maps-client.js',
    );
    const body = {
      zone: 'DE',
      carbonIntensity: 300,
      datetime: new Date(clock.now).toISOString(),
      isEstimated: false,
    };
    let calls = 0;
    const client = createElectricityMapsClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: 'key',
      timeoutMs: BOUND_MS,
      retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 },
      fetch: async () =>
        ++calls === 1
          ? new Response('busy', { status: 503 })
          : new Response(JSON.stringify(body), { status: 200 }),
    });
    // Before: node:timers/promises' setTimeout was the fake's; the retry never came.
    const point = await bounded(client.latest('DE'), 'latest()');
    expect(point.carbonIntensity).to.equal(300);
    expect(calls).to.equal(2);
  });

  // A reader that ignores SIGTERM (nvidia-smi acts on it only at its next tick): stop() ends it
  // with SIGKILL after the grace, a grace of real time under whatever fakes the test installed.
  it("a reader's stop() escalates to SIGKILL on real time", async () => {
    const { dir, cleanup } = tempDir('fake-timers-reader');
    try {
      const binary = writeFakeBinary(
        dir,
        'reader',
        `process.on('SIGTERM', () => {});
process.stdout.write('line\\n');
setInterval(() => {}, 60_000);`,
      );
      let lined: () => void = () => undefined;
      const first = new Promise<void>((resolve) => {
        lined = resolve;
      });
      let ended: NodeJS.Signals | number | null = null;
      const child = spawnLineChild(binary, [], {
        onLine: () => lined(),
        onExit: (code, signal) => {
          ended = signal ?? code;
        },
      });
      await bounded(first, 'first line');
      clock = install();
      // Before: the grace was a fake timer; stop() waited for the test to tick the clock.
      await bounded(child.stop(), 'stop()');
      expect(ended).to.equal('SIGKILL');
    } finally {
      cleanup();
    }
  });
});
