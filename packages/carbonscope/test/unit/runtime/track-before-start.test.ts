import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import {
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { start, stop, track } from '../../../src/api.js';
import { MAX_UNSETTLED } from '../../../src/energy/index.js';
import { CarbonscopeInstrumentation } from '../../../src/instrumentation.js';
import { startingTracker } from '../../../src/otel/index.js';
import { libraryRoot } from '../../../src/paths.js';
import type { Carbonscope } from '../../../src/runtime/index.js';
import { childEnv } from '../../helpers/child-env.js';
import { ODD_THROWS, textlessValue } from '../../helpers/textless-throws.js';
import { intensityReading, memoryLogger, StubGrid, testConfig } from '../energy/scripted.js';

const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;

function warnings(lines: Array<Record<string, unknown>>): string[] {
  return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
}

/** A default start whose energy source throws `thrown` (an Error of `thrown`'s) as it is built. */
function brokenStart(thrown: unknown, logger: ReturnType<typeof memoryLogger>['logger']) {
  const broken = () => {
    throw typeof thrown === 'string' ? new Error(thrown) : thrown;
  };
  return start({ env: ENV, logger, select: { make: { estimate: broken } } });
}

/** What `promise` rejects with; undefined where it resolves. */
function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

// A service that runs a job at its start (a warm-up, a migration, a first batch) right after
// `sdk.start()` or an unawaited start(): its track() ran unmetered while the meter started in
// the background (its sources probed, the grid's intensity fetched), and one warning said so.
// The default instance's meter now counts from its create(), and its tracker takes them.
describe('track() while carbonscope is still starting', () => {
  afterEach(() => stop());

  /** The operations the instance settles from now on, by name. */
  function settledBy(cs: Carbonscope): Map<string, number> {
    const counts = new Map<string, number>();
    cs.onEnd((f) => counts.set(f.operation, (counts.get(f.operation) ?? 0) + 1));
    return counts;
  }

  it('counts them, settled at the first sample, and says nothing', async () => {
    const { logger, lines } = memoryLogger();
    const starting = start({ env: ENV, logger });
    expect(track('warm-up', () => 7)).to.equal(7);
    expect(await track('first-batch', async () => 8)).to.equal(8);
    track('warm-up', () => 9);
    const cs = await starting;
    const counts = settledBy(cs);
    track('after', () => 10);
    await cs.firstSample();
    expect(Object.fromEntries(counts)).to.deep.equal({ 'warm-up': 2, 'first-batch': 1, after: 1 });
    expect(warnings(lines)).to.deep.equal([]);
  });

  it('counts them where the instrumentation started it, before its ready()', async () => {
    const { logger, lines } = memoryLogger();
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(0),
      exportIntervalMillis: 600_000,
    });
    const mp = new MeterProvider({ readers: [reader] });
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ...ENV }),
      logger,
    });
    try {
      instrumentation.setMeterProvider(mp);
      track('migration', () => undefined);
      await instrumentation.ready();
      const cs = await start();
      const counts = settledBy(cs);
      await cs.firstSample();
      expect(Object.fromEntries(counts)).to.deep.equal({ migration: 1 });
      expect(warnings(lines)).to.deep.equal([]);
    } finally {
      instrumentation.disable();
      await stop();
      await mp.shutdown();
    }
  });

  // Once made, the instance still fetches the grid's intensity before its meter starts (an
  // Electricity Maps answer: a network round trip, seconds where it is slow): the tracker lent
  // for create()'s probe was taken back there, and a track() meanwhile ran unmetered, told of.
  it('counts them while the grid intensity is fetched, after the sources are probed', async () => {
    const { logger, lines } = memoryLogger();
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const grid = new StubGrid(intensityReading('DE', 300));
    const current = grid.current.bind(grid);
    grid.current = async () => {
      const reading = await current();
      await answered;
      return reading;
    };
    const starting = start({ env: ENV, logger, grid });
    // The meter's start has asked the grid: create() has returned, the start has not ended.
    while (grid.currentCalls === 0) await turn();
    expect(track('while-fetched', () => 11)).to.equal(11);
    answer();
    const cs = await starting;
    const counts = settledBy(cs);
    await cs.firstSample();
    expect(Object.fromEntries(counts)).to.deep.equal({ 'while-fetched': 1 });
    expect(warnings(lines)).to.deep.equal([]);
  });

  // A CommonJS application under `-r carbonscope/register`: its first lines run before register's
  // start has ended, whose probe is asynchronous.
  it('counts them under register, whose start an application cannot await before its first line', () => {
    const index = JSON.stringify(join(libraryRoot, 'dist/src/index-require.cjs'));
    const script = `const { track, start, snapshot } = require(${index}); track('warm-up', () => 1); start().then((cs) => cs.firstSample()).then(() => console.log(JSON.stringify(snapshot().operations.map((o) => [o.operation, o.count]))));`;
    const out = spawnSync(
      process.execPath,
      ['-r', join(libraryRoot, 'dist/src/register-default.cjs'), '-e', script],
      {
        env: childEnv({ ...ENV, OTEL_METRICS_EXPORTER: 'none' }),
        timeout: 10_000,
        encoding: 'utf8',
      },
    );
    expect(out.status, out.stderr).to.equal(0);
    expect(out.stderr).to.equal('');
    expect(JSON.parse(out.stdout)).to.deep.equal([['warm-up', 1]]);
  });

  // What waits for the first sample is bounded (MAX_UNSETTLED); until the instance is made,
  // nothing takes in what would be reported beyond it, so those run unmetered, and are told of.
  it(`runs those past ${MAX_UNSETTLED} waiting unmetered, and says so once with the first's name, quoted as one line`, async () => {
    const { logger, lines } = memoryLogger();
    const starting = start({ env: ENV, logger });
    for (let i = 0; i < MAX_UNSETTLED; i++) track('row', () => i);
    expect(track(`line\nbreak${'x'.repeat(200)}`, () => 5)).to.equal(5);
    track('row', () => undefined);
    await starting;
    const [warning] = warnings(lines);
    expect(warning).to.match(/^track\("line\\nbreakx{90}…"\) and 1 more operations ran before /);
  });

  // A start that fails once its tracker is lent (a source that throws as it is built, a bad
  // probe setting) took the operations tracked meanwhile with it, without a word: the user
  // believed them counted. Their functions ran and returned as ever; their figures are nowhere.
  it('says once, where the start fails after lending its tracker, how many it lost and why', async () => {
    const { logger, lines } = memoryLogger();
    const starting = brokenStart('the model cannot be built', logger);
    expect(track('warm-up', () => 7)).to.equal(7);
    let release: () => void = () => undefined;
    const inFlight = track(
      'first-batch',
      () => new Promise<number>((resolve) => (release = () => resolve(8))),
    );
    const failure = await failureOf(starting);
    expect(String(failure)).to.include('the model cannot be built');
    expect(track('after', () => 9)).to.equal(9);
    release();
    expect(await inFlight).to.equal(8);
    expect(warnings(lines)).to.deep.equal([
      'carbonscope could not start (the model cannot be built): the 2 operations tracked while ' +
        'it was starting (1 of them still running) are counted nowhere, in no metric and on ' +
        'no span; their functions ran as without carbonscope',
    ]);
  });

  // A maker's error of several lines (a stack-like message) broke the warning into as many.
  it("keeps the lost-operations warning one line when the start's error has several", async () => {
    const { logger, lines } = memoryLogger();
    const starting = brokenStart('no model:\n  at line 2\u001b[31m', logger);
    expect(track('warm-up', () => 7)).to.equal(7);
    await failureOf(starting);
    const [warning] = warnings(lines);
    expect(warning).to.match(
      /^carbonscope could not start \(no model:\\n {2}at line 2\\u001b\[31m\): /,
    );
    expect(warning).to.not.include('\n').and.not.include('\u001b');
  });

  // The maker is the application's (select.make): it may throw anything.
  for (const { name, source, said } of ODD_THROWS) {
    it(`names a start's error that is ${name} in the lost-operations warning as it can`, async () => {
      const { logger, lines } = memoryLogger();
      const thrown = textlessValue(source);
      const starting = brokenStart(thrown, logger);
      expect(track('warm-up', () => 7)).to.equal(7);
      // In an array: a Proxy resolved as a promise's value has its `then` read, which throws.
      const [rejected] = await starting.then(
        () => [],
        (err: unknown) => [err],
      );
      expect(rejected === thrown, 'start() rejects with the value').to.equal(true);
      expect(warnings(lines)).to.deep.equal([
        `carbonscope could not start (${said}): the operation tracked while it was starting is ` +
          'counted nowhere, in no metric and on no span; its function ran as without carbonscope',
      ]);
    });
  }

  // The instrumentation's start logs its failure: a maker's odd value named as messageOf can.
  for (const { name, source, said } of ODD_THROWS) {
    it(`the instrumentation whose start fails with ${name}: one error line naming it`, async () => {
      const { logger, lines } = memoryLogger();
      const broken = () => {
        throw textlessValue(source);
      };
      const instrumentation = new CarbonscopeInstrumentation({
        env: ENV,
        logger,
        select: { make: { estimate: broken } },
      });
      try {
        await instrumentation.ready();
        const errors = lines.filter((l) => l.level === 50).map((l) => String(l.msg));
        expect(errors).to.deep.equal([`carbonscope instrumentation: ${said}`]);
      } finally {
        instrumentation.disable();
      }
    });
  }

  // A probe timeout out of range makes no start: refused as the options are read, before the
  // tracker is lent, nothing is taken in to be lost (nor a RAPL counter read, a hook set).
  it('refuses a select.probeTimeoutMs out of range before it lends its tracker', async () => {
    const { logger, lines } = memoryLogger();
    const starting = start({ env: ENV, logger, select: { probeTimeoutMs: 0 } });
    expect(startingTracker()).to.equal(undefined);
    expect(track('warm-up', () => 7)).to.equal(7);
    const failure = await failureOf(starting);
    expect(failure).to.be.instanceOf(RangeError);
    expect(String(failure)).to.include('probeTimeoutMs: expected a number of ms from 1 to 600000');
    expect(warnings(lines)).to.deep.equal([]);
  });

  it('says nothing more where a start that fails had tracked nothing', async () => {
    const { logger, lines } = memoryLogger();
    const failure = await failureOf(brokenStart('the model cannot be built', logger));
    expect(String(failure)).to.include('the model cannot be built');
    expect(warnings(lines)).to.deep.equal([]);
  });

  it('says nothing of a track() with no start under way: library code in a host that never starts it', async () => {
    const { logger, lines } = memoryLogger();
    track('library-call', () => undefined);
    await start({ env: ENV, logger });
    expect(warnings(lines)).to.deep.equal([]);
  });
});
