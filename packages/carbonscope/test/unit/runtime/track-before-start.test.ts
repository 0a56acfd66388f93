import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { start, stop, track } from '../../../src/api.js';
import { CarbonscopeInstrumentation } from '../../../src/instrumentation.js';
import { libraryRoot } from '../../../src/paths.js';
import { childEnv } from '../../helpers/child-env.js';
import { memoryLogger, testConfig } from '../energy/scripted.js';

const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;

function warnings(lines: Array<Record<string, unknown>>): string[] {
  return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
}

// A service that runs a job at its start (a warm-up, a migration, a first batch) right after
// `sdk.start()` or an unawaited start(): its track() ran unmetered while the meter started in
// the background (its sources probed, the grid's intensity fetched), and nothing said so.
describe('track() while carbonscope is still starting', () => {
  afterEach(() => stop());

  it('runs the function unmetered and says so once, at the start, with how many ran', async () => {
    const { logger, lines } = memoryLogger();
    const starting = start({ env: ENV, logger });
    expect(track('warm-up', () => 7)).to.equal(7);
    expect(await track('first-batch', async () => 8)).to.equal(8);
    track('warm-up', () => 9);
    await starting;
    track('after', () => 10);
    expect(warnings(lines)).to.deep.equal([
      'track("warm-up") and 2 more operations ran before carbonscope\'s meter had started (start() starts it in the background: its power sources probed, the grid\'s intensity fetched): they ran unmetered, with no figure in the metrics or on a span; `await start()` before work that is to be counted',
    ]);
  });

  it("names the instrumentation's ready() where the instrumentation started it", async () => {
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
      expect(warnings(lines)).to.deep.equal([
        'track("migration") ran before carbonscope\'s meter had started (CarbonscopeInstrumentation starts it in the background: its power sources probed, the grid\'s intensity fetched): it ran unmetered, with no figure in the metrics or on a span; `await instrumentation.ready()` (or `await start()`) before work that is to be counted',
      ]);
    } finally {
      instrumentation.disable();
      await stop();
      await mp.shutdown();
    }
  });

  // A CommonJS application under `-r carbonscope/register`: its first lines run before register's
  // start has ended, whose probe is asynchronous.
  it('says so under register, whose start an application cannot await before its first line', () => {
    const index = JSON.stringify(join(libraryRoot, 'dist/src/index-require.cjs'));
    const script = `const { track, start } = require(${index}); track('warm-up', () => 1); start().then(() => track('later', () => 2));`;
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
    expect(out.stderr.trim().split('\n')).to.deep.equal([
      'carbonscope: warning: track("warm-up") ran before carbonscope\'s meter had started (--import carbonscope/register starts it in the background: its power sources probed, the grid\'s intensity fetched): it ran unmetered, with no figure in the metrics or on a span; `await start()` before work that is to be counted',
    ]);
  });

  it("quotes the name as one line, cut short: it is the application's, of any length", async () => {
    const { logger, lines } = memoryLogger();
    const starting = start({ env: ENV, logger });
    track(`line\nbreak${'x'.repeat(200)}`, () => undefined);
    await starting;
    const [warning] = warnings(lines);
    expect(warning).to.match(/^track\("line\\nbreakx{90}…"\) ran before /);
  });

  it('says nothing of a track() with no start under way: library code in a host that never starts it', async () => {
    const { logger, lines } = memoryLogger();
    track('library-call', () => undefined);
    await start({ env: ENV, logger });
    expect(warnings(lines)).to.deep.equal([]);
  });
});
