import {
  type MeterProvider as ApiMeterProvider,
  createNoopMeter,
  metrics,
} from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { CarbonscopeInstrumentation } from '../../../src/instrumentation.js';
import { startDefault, stopDefault } from '../../../src/otel/default.js';
import { clearRegisterPresent, markRegisterPresent } from '../../../src/register-present.js';
import { memoryLogger, testConfig } from '../energy/scripted.js';

/**
 * What NodeSDK hands its instrumentations when it registers no meter provider: the API's no-op.
 * sdk-node 0.200.0 registers none without a reader (no `otlp` default), and 0.200 to 0.203 ignore
 * `metricReaders` (the README's recipe): carbonscope then metered for nothing, without a word.
 */
function noopProvider(): ApiMeterProvider {
  metrics.disable();
  return metrics.getMeterProvider();
}

/** A turn of the event loop: NodeSDK's start(), synchronous, has handed every provider by then. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * An operation of the process's carbonscope ends, a turn later: its figures go to whatever the
 * instrumentation is bound to, and where that is the no-op they are lost (the warning's moment).
 */
async function operationEnds(): Promise<void> {
  (await startDefault()).track('job', () => undefined);
  await nextTurn();
}

/** The warnings an instrumentation logged while `steps` handed it providers, as an SDK does. */
async function warningsOf(
  steps: (instrumentation: CarbonscopeInstrumentation) => Promise<void> | void,
  env: Record<string, string> = {},
): Promise<string[]> {
  const { logger, lines } = memoryLogger();
  const instrumentation = new CarbonscopeInstrumentation({
    settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
    env,
    logger,
  });
  try {
    await instrumentation.ready();
    await steps(instrumentation);
    await operationEnds();
  } finally {
    instrumentation.disable();
    await stopDefault();
  }
  return lines.filter((l) => l.level === 40).map((l) => String(l.msg));
}

describe('CarbonscopeInstrumentation handed no meter provider', function () {
  this.timeout(20_000);
  afterEach(() => metrics.disable());

  it('says once that its metrics go nowhere, naming the NodeSDK spellings that register none', async () => {
    const warnings = await warningsOf(async (instrumentation) => {
      instrumentation.setMeterProvider(noopProvider());
      await nextTurn();
      instrumentation.setMeterProvider(noopProvider());
    });
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(/no-op meter provider/);
    expect(warnings[0]).to.match(/metricReaders/);
    // A service that exports traces alone on purpose has a way to say so.
    expect(warnings[0]).to.match(/OTEL_METRICS_EXPORTER=none/);
    // registerInstrumentations() with no meterProvider, before any global one, hands the same
    // no-op: that user, who has no NodeSDK, reads what to pass.
    expect(warnings[0]).to.match(/registerInstrumentations\(\) without a `meterProvider`/);
  });

  it("says nothing when the SDK hands its own provider after the API's (NodeSDK's start)", async () => {
    const warnings = await warningsOf((instrumentation) => {
      instrumentation.setMeterProvider(noopProvider());
      instrumentation.setMeterProvider(new MeterProvider());
    });
    expect(warnings).to.deep.equal([]);
  });

  // registerInstrumentations before the application's provider exists hands the API's no-op;
  // the application hands its own by hand once its configuration is loaded, an await later.
  it('says nothing to an application that hands its provider itself after an await', async () => {
    const warnings = await warningsOf(async (instrumentation) => {
      instrumentation.setMeterProvider(noopProvider());
      await new Promise((resolve) => setTimeout(resolve, 20));
      instrumentation.setMeterProvider(new MeterProvider());
    });
    expect(warnings).to.deep.equal([]);
  });

  it('says it where an operation ended while it was still bound to the no-op', async () => {
    const warnings = await warningsOf(async (instrumentation) => {
      instrumentation.setMeterProvider(noopProvider());
      await operationEnds();
      instrumentation.setMeterProvider(new MeterProvider());
    });
    expect(warnings).to.have.length(1);
  });

  it('says nothing where the application asked for no metrics', async () => {
    const envs: Record<string, string>[] = [
      { OTEL_METRICS_EXPORTER: 'none' },
      { OTEL_SDK_DISABLED: 'TRUE' },
    ];
    for (const env of envs) {
      const warnings = await warningsOf((i) => i.setMeterProvider(noopProvider()), env);
      expect(warnings, JSON.stringify(env)).to.deep.equal([]);
    }
  });

  it('says nothing where carbonscope/register exports the figures itself (its own SDK)', async () => {
    markRegisterPresent();
    try {
      const warnings = await warningsOf((i) => i.setMeterProvider(noopProvider()));
      expect(warnings).to.deep.equal([]);
    } finally {
      clearRegisterPresent();
    }
  });

  it('says it once for two instrumentations handed the no-op, not once each', async () => {
    const { logger, lines } = memoryLogger();
    const make = () =>
      new CarbonscopeInstrumentation({
        settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
        env: {},
        logger,
      });
    const both = [make(), make()];
    try {
      for (const i of both) await i.ready();
      for (const i of both) i.setMeterProvider(noopProvider());
      await operationEnds();
    } finally {
      for (const i of both) i.disable();
      await stopDefault();
    }
    const nowhere = lines.filter((l) => /no-op meter provider/.test(String(l.msg)));
    expect(nowhere).to.have.length(1);
  });

  it('says nothing while disabled, and says it once enabled again on the no-op', async () => {
    const { logger, lines } = memoryLogger();
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      env: {},
      logger,
    });
    const warnings = () => lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    try {
      await instrumentation.ready();
      instrumentation.setMeterProvider(noopProvider());
      instrumentation.disable();
      await operationEnds();
      expect(warnings()).to.deep.equal([]);
      instrumentation.enable();
      await instrumentation.ready();
      await operationEnds();
      expect(warnings()).to.have.length(1);
    } finally {
      instrumentation.disable();
      await stopDefault();
    }
  });

  it('says nothing when disabled before its start ended (it stays off)', async () => {
    const { logger, lines } = memoryLogger();
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      env: {},
      logger,
    });
    const starting = instrumentation.ready();
    instrumentation.setMeterProvider(noopProvider());
    instrumentation.disable();
    try {
      await starting;
      await operationEnds();
      expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).to.deep.equal([]);
    } finally {
      instrumentation.disable();
      await stopDefault();
    }
  });

  it("says it of a provider that hands out the API's no-op meter (one that delegates to the no-op)", async () => {
    class DelegatingMeterProvider implements ApiMeterProvider {
      constructor(private readonly inner: ApiMeterProvider) {}
      getMeter(name: string, version?: string) {
        return this.inner.getMeter(name, version);
      }
    }
    // A minified bundle's no-op meter: the class renamed, the copy of the API the same.
    const renamed = Object.create(createNoopMeter().constructor.prototype, {
      constructor: { value: class t {} },
    });
    const providers: ApiMeterProvider[] = [
      new DelegatingMeterProvider(noopProvider()),
      { getMeter: () => renamed },
    ];
    for (const provider of providers) {
      const warnings = await warningsOf((i) => i.setMeterProvider(provider));
      expect(warnings, provider.constructor.name).to.have.length(1);
    }
  });

  it('takes a provider without a prototype, and one the application shut down, as no no-op', async () => {
    const bare = Object.assign(Object.create(null), {
      getMeter: () => new MeterProvider().getMeter('x'),
    });
    const shut = new MeterProvider();
    await shut.shutdown();
    for (const provider of [bare, shut]) {
      const warnings = await warningsOf((i) => i.setMeterProvider(provider));
      expect(warnings).to.deep.equal([]);
    }
  });
});
