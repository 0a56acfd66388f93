import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { start, stop } from '../../../src/api.js';
import { CarbonscopeInstrumentation } from '../../../src/instrumentation.js';
import { attachToOtel } from '../../../src/otel/attach.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { otlpReceiver } from '../../helpers/otlp-receiver.js';
import { fromPackageCopy } from '../../helpers/package-copy.js';
import { memoryLogger, testConfig } from '../energy/scripted.js';

// Two copies of carbonscope in one process (the application's and a dependency's, of two
// versions) share its one Carbonscope: whichever starts first makes it, the other drives it.
const ENV = { ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' } as const;
const KEY = Symbol.for('carbonscope.default');
const holder = globalThis as { [KEY]?: unknown };

function warnings(lines: Array<Record<string, unknown>>): string[] {
  return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
}

/**
 * The process's Carbonscope as a copy of an earlier version keeps it: its slot held the start,
 * the instance and the waiters at its stop, not who started it nor with what options.
 */
async function startedByAnOlderCopy(): Promise<{
  cs: Carbonscope;
  lines: Array<Record<string, unknown>>;
}> {
  const { logger, lines } = memoryLogger();
  const cs = await Carbonscope.create({ settings: testConfig(ENV), logger });
  await cs.start();
  holder[KEY] = { starting: Promise.resolve(cs), started: cs, atStop: [] };
  return { cs, lines };
}

/**
 * The operation energy histogram's count lines, once CarbonscopeInstrumentation bound a meter
 * provider and `cs` tracked a `resize` and sampled.
 */
async function energyCountsOfAResize(cs: Pick<Carbonscope, 'track' | 'meter'>): Promise<string[]> {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const mp = new MeterProvider({ readers: [reader] });
  const instrumentation = new CarbonscopeInstrumentation({ logger: memoryLogger().logger });
  try {
    instrumentation.setMeterProvider(mp);
    await instrumentation.ready();
    cs.track('resize', () => 1);
    cs.meter.sampleNow();
    const { resourceMetrics } = await reader.collect();
    const text = new PrometheusSerializer().serialize(resourceMetrics);
    const counts = text
      .split('\n')
      .filter((l) => l.startsWith('carbonscope_operation_energy_count{'));
    expect(counts, text).to.have.length(1);
    return counts;
  } finally {
    instrumentation.disable();
    await mp.shutdown();
  }
}

describe('two copies of carbonscope in one process', () => {
  afterEach(async () => {
    const slot = holder[KEY] as { started?: Carbonscope } | undefined;
    await stop();
    await slot?.started?.stop();
    holder[KEY] = undefined;
  });

  // Its slot has no options to compare with: `running[key]` threw a TypeError out of start().
  it("start() with options beside an older copy's instance: that one, and one warning", async () => {
    const { cs, lines } = await startedByAnOlderCopy();
    const got = await start({ env: { ...ENV, CARBON_ZONE: 'FR' } });
    await start({ env: ENV });
    expect(got).to.equal(cs);
    expect(warnings(lines)).to.deep.equal([
      'start(): carbonscope is already running (started by another copy of carbonscope), so the options env are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  it("new CarbonscopeInstrumentation(config) beside an older copy's instance: one warning naming what it ignores", async () => {
    const { lines } = await startedByAnOlderCopy();
    const settings = testConfig(ENV);
    const instrumentation = new CarbonscopeInstrumentation({
      // Settings are compared field by field: the one that differs is named.
      settings: { ...settings, energy: { ...settings.energy, pue: 1.7 } },
      logger: memoryLogger().logger,
      enabled: false,
    });
    instrumentation.enable();
    try {
      await instrumentation.ready();
    } finally {
      instrumentation.disable();
    }
    expect(warnings(lines)).to.deep.equal([
      'CarbonscopeInstrumentation: carbonscope is already running (started by another copy of carbonscope), so the options settings.energy.pue, logger are ignored; give them to the first start, or stop() it and start it again with them',
    ]);
  });

  // This copy's bindMetrics reads the instance's insides: bound to an instance of a version
  // whose insides differ, every sample's recording failed and no operation was exported.
  it("binds another version's instance with that version's own code", async () => {
    const other = await fromPackageCopy<{ start: typeof start; stop: typeof stop }>(
      '0.0.0-other',
      'api.js',
    );
    const cs = await other.start({ settings: testConfig(ENV), logger: memoryLogger().logger });
    try {
      const counts = await energyCountsOfAResize(cs);
      expect(counts[0]).to.include('otel_scope_version="0.0.0-other"');
    } finally {
      await other.stop();
    }
  });

  // An older copy's instance (no binder in its slot) is bound with this copy's code, and that
  // version's has no onSettled: the binding threw at bind time and recorded no operation.
  it("records the operations of an older copy's instance, which has no onSettled", async () => {
    const { cs } = await startedByAnOlderCopy();
    const older = cs as { onSettled?: unknown };
    older.onSettled = undefined;
    try {
      const counts = await energyCountsOfAResize(cs);
      expect(counts[0]).to.include('operation="resize"').and.match(/ 1$/);
    } finally {
      delete older.onSettled;
    }
  });

  // Register's own SDK, where another copy's start() came first: it bound with register's copy's
  // code, as the instrumentation did before.
  it("register's own SDK binds another version's instance with that version's own code", async () => {
    const other = await fromPackageCopy<{ start: typeof start; stop: typeof stop }>(
      '0.0.0-other',
      'api.js',
    );
    const cs = await other.start({ settings: testConfig(ENV), logger: memoryLogger().logger });
    const receiver = await otlpReceiver();
    const env = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    try {
      // The OTLP exporter reads its endpoint from process.env, as register hands it.
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
      const attached = await attachToOtel(cs, env, memoryLogger().logger).finally(() => {
        delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      });
      expect(attached.mode).to.equal('own');
      cs.track('resize', () => 1);
      cs.meter.sampleNow();
      await attached.shutdown();
      // Its histograms are register's own (LocalHistograms, of its provider): the rest is bound.
      const bound = receiver.pushes.flatMap((push) =>
        push.body.resourceMetrics.flatMap((r) =>
          r.scopeMetrics.flatMap((s) =>
            s.metrics.filter((m) => !m.histogram).map(() => s.scope?.version),
          ),
        ),
      );
      expect(bound).not.to.have.length(0);
      expect(new Set(bound)).to.deep.equal(new Set(['0.0.0-other']));
    } finally {
      await other.stop();
      await receiver.close();
    }
  });
});
