import { expect } from 'chai';
import type { PowerSource } from '../../../src/energy/index.js';
import {
  DEFAULT_MAX_OPERATION_NAMES,
  MAX_OPERATION_NAMES_LIMIT,
} from '../../../src/labels/index.js';
import { bindMetrics } from '../../../src/otel/binding/bind-metrics.js';
import type { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { loadSettings, SettingsError } from '../../../src/settings.js';
import { createTestMetrics, parseSamples, type TestMetrics } from '../../helpers/metrics.js';
import {
  constantSource,
  intensityReading,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  scriptedCarbonscope,
  switchingSource,
} from '../energy/scripted.js';

interface Rig {
  cs: Carbonscope;
  metrics: TestMetrics;
  lines: Array<Record<string, unknown>>;
  clock: ScriptedClock;
  /** Ends one operation of each name, then samples: their figures are settled. */
  run: (names: readonly string[]) => void;
}

async function rig(
  env: Record<string, string> = {},
  host: PowerSource = constantSource(10),
): Promise<Rig> {
  const clock = new ScriptedClock(10_000);
  const cpu = new ScriptedCpu();
  const metrics = createTestMetrics();
  const { logger, lines } = memoryLogger();
  const grid = new StubGrid(intensityReading('DE', 400));
  const wallClock = () => Date.UTC(2026, 0, 1);
  const cs = await scriptedCarbonscope({ clock, cpu, env, grid, host, logger, wallClock });
  bindMetrics(metrics.meter, cs);
  await cs.start();
  const run = (names: readonly string[]) => {
    for (const name of names) cs.begin(name).end();
    clock.advance(1000);
    cpu.interval(1, 0.5, 0.5);
    cs.meter.sampleNow();
  };
  return { cs, metrics, lines, clock, run };
}

/** The operation names the operation energy histogram has series of. */
async function exposedNames(metrics: TestMetrics): Promise<string[]> {
  return parseSamples(await metrics.scrape())
    .filter((s) => s.name === 'carbonscope_operation_energy_joules_count')
    .map((s) => s.labels.carbonscope_operation);
}

const routes = (n: number) => Array.from({ length: n }, (_, i) => `GET /api/v1/res${i}/:id`);

const warnings = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.level === 40).map((l) => String(l.msg));

// The label kept 64 names, not configurable: in an app of 300 routes, 236 routes' requests were
// `other` for the process's life, without a word.
describe('operation name limit (ENERGY_OPERATION_MAX_NAMES)', () => {
  it('keeps every name of an app with 300 routes by default', async () => {
    const r = await rig();
    r.run(routes(300));
    const names = await exposedNames(r.metrics);
    expect(names).to.have.length(300);
    expect(names).not.to.include('other');
    expect(r.cs.snapshot().operations.map((o) => o.operation)).not.to.include('other');
    expect(warnings(r.lines).filter((w) => w.includes('ENERGY_OPERATION_MAX_NAMES'))).to.be.empty;
    await r.metrics.shutdown();
  });

  it(`keeps ${DEFAULT_MAX_OPERATION_NAMES} names by default, then \`other\``, async () => {
    const r = await rig();
    r.run(routes(DEFAULT_MAX_OPERATION_NAMES + 3));
    const names = await exposedNames(r.metrics);
    expect(names).to.have.length(DEFAULT_MAX_OPERATION_NAMES + 1);
    expect(names).to.include('other');
    await r.metrics.shutdown();
  });

  it('keeps as many names as set, then `other` in the metrics and the snapshot alike', async () => {
    const r = await rig({ ENERGY_OPERATION_MAX_NAMES: '2' });
    r.run(['a', 'b', 'c', 'd', 'a']);
    expect((await exposedNames(r.metrics)).sort()).to.deep.equal(['a', 'b', 'other']);
    const scores = r.cs.snapshot().operations;
    expect(scores.map((o) => o.operation).sort()).to.deep.equal(['a', 'b', 'other']);
    expect(scores.find((o) => o.operation === 'other')?.count).to.equal(2);
    await r.metrics.shutdown();
  });

  it('names in a binding made later what the first named, not its own first names', async () => {
    const r = await rig({ ENERGY_OPERATION_MAX_NAMES: '2' });
    r.run(['a', 'b']);
    // The application's provider, bound after carbonscope's own had seen two names.
    const later = createTestMetrics();
    bindMetrics(later.meter, r.cs);
    r.run(['c', 'a']);
    expect((await exposedNames(later)).sort()).to.deep.equal(['a', 'other']);
    expect((await exposedNames(r.metrics)).sort()).to.deep.equal(['a', 'b', 'other']);
    await later.shutdown();
    await r.metrics.shutdown();
  });

  it('warns once, as the first name is refused, naming it and the setting', async () => {
    const r = await rig({ ENERGY_OPERATION_MAX_NAMES: '2' });
    r.run(['a', 'b']);
    expect(warnings(r.lines)).to.be.empty;
    r.run(['c', 'd', 'c']);
    r.run(['e']);
    const [warning, ...more] = warnings(r.lines);
    expect(more).to.be.empty;
    expect(warning).to.include('"c"').and.include('ENERGY_OPERATION_MAX_NAMES=2');
    expect(warning).to.include('other');
    await r.metrics.shutdown();
  });

  it('warns once of a name over 100 characters, which no setting admits', async () => {
    const r = await rig();
    const long = `/${'x'.repeat(120)}`;
    r.run([long, `${long}y`]);
    const [warning, ...more] = warnings(r.lines);
    expect(more).to.be.empty;
    expect(warning).to.include('100 characters').and.include('other');
    expect(warning).not.to.include('ENERGY_OPERATION_MAX_NAMES');
    await r.metrics.shutdown();
  });

  // The CPU calibration kept its own 256 names: in a 300-route app, routes 257 to 300 were
  // named in every metric but charged their kind's average CPU for the process's life.
  for (const [env, count] of [
    [{}, 300],
    [{ ENERGY_OPERATION_MAX_NAMES: '2' }, 2],
  ] as const) {
    it(`calibrates the CPU of as many names as the label keeps (${count} of 300)`, async () => {
      const r = await rig(env);
      r.run([]); // the first sample opens a calibration window
      expect(r.cs.tracker.measuringCpu).to.equal(true);
      for (const name of routes(300)) r.cs.track(name, () => r.clock.advance(1));
      r.run([]);
      expect(r.cs.tracker.cpuDensities()).to.have.length(count);
      await r.metrics.shutdown();
    });
  }

  // An application's OTel SDK keeps 2,000 attribute sets per metric (its cardinalityLimit),
  // then folds the rest into one `otel.metric.overflow` series without a word: at 1,000 names
  // carbonscope.operation.emissions (usage and embodied per name) had lost names to it.
  it("keeps its most names within the SDK's 2,000 series a metric, estimated and measured", async () => {
    // A RAPL source made readable while the process runs (withLateStart): estimated, then not.
    const host = switchingSource(10);
    const r = await rig(
      { ENERGY_OPERATION_MAX_NAMES: String(MAX_OPERATION_NAMES_LIMIT) },
      host.source,
    );
    const names = routes(MAX_OPERATION_NAMES_LIMIT + 1);
    r.run(names);
    host.state.measured = true;
    r.run(names);
    const samples = parseSamples(await r.metrics.scrape());
    expect(samples.filter((s) => 'otel_metric_overflow' in s.labels)).to.be.empty;
    const emissions = samples.filter(
      (s) => s.name === 'carbonscope_operation_emissions_grams_count',
    );
    // Usage estimated and measured, and embodied, for each name and `other`.
    expect(emissions).to.have.length(3 * (MAX_OPERATION_NAMES_LIMIT + 1));
    await r.metrics.shutdown();
  });

  for (const value of ['0', '601', '1e3', '-5']) {
    it(`refuses ENERGY_OPERATION_MAX_NAMES=${value}, naming the variable and its range`, () => {
      expect(() => loadSettings({ ENERGY_OPERATION_MAX_NAMES: value }))
        .to.throw(SettingsError, /^ENERGY_OPERATION_MAX_NAMES: .*from 1 to 600/)
        .with.property('variable', 'ENERGY_OPERATION_MAX_NAMES');
    });
  }
});
