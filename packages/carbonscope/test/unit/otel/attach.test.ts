import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { CarbonscopeInstrumentation } from '../../../src/instrumentation.js';
import type { Logger } from '../../../src/log.js';
import { METRICS } from '../../../src/metrics/index.js';
import { attachToOtel } from '../../../src/otel/attach.js';
import { withCurrentGauges } from '../../../src/otel/binding/current-gauges.js';
import { LocalHistograms } from '../../../src/otel/binding/local-histograms.js';
import { startDefault, stopDefault } from '../../../src/otel/default.js';
import { SCOPE } from '../../../src/otel/scope.js';
import { Carbonscope } from '../../../src/runtime/carbonscope.js';
import { SettingsError } from '../../../src/settings.js';
import { findSample } from '../../helpers/metrics.js';
import { histogramPoint, metricsOf, otlpReceiver, sumOf } from '../../helpers/otlp-receiver.js';
import { fromPackageCopy } from '../../helpers/package-copy.js';
import { ODD_THROWS, textlessValue } from '../../helpers/textless-throws.js';
import { waitFor } from '../../helpers/wait.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  memoryLogger,
  ScriptedClock,
  ScriptedCpu,
  StubGrid,
  testConfig,
} from '../energy/scripted.js';

/**
 * A meter provider whose readings the test can scrape, serialized as an application's own JS
 * Prometheus exporter does: no unit word in the names (`hw_host_energy_total`).
 */
function provider(metricProducers: sdkMetrics.MetricProducer[] = []) {
  // As the README's recipe has it (test/integration/readme-recipe runs the block itself).
  const reader = withCurrentGauges(
    sdkMetrics,
    new PrometheusExporter({ preventServerStart: true, metricProducers }),
  );
  const mp = new MeterProvider({ readers: [reader] });
  const serializer = new PrometheusSerializer();
  return {
    mp,
    scrape: async () => serializer.serialize((await reader.collect()).resourceMetrics),
  };
}

/**
 * The README's recipe: carbonscope's local histograms in the instrumentation and in the
 * application's reader. Runs `fn` with the default Carbonscope started on it, then stops both.
 */
async function withRecipe(
  fn: (
    cs: Carbonscope,
    scrape: () => Promise<string>,
    histograms: LocalHistograms,
  ) => Promise<void>,
): Promise<void> {
  const histograms = new LocalHistograms(sdkMetrics, SCOPE);
  const { mp, scrape } = provider([histograms]);
  const instrumentation = new CarbonscopeInstrumentation({
    settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
    logger: memoryLogger().logger,
    histograms,
  });
  try {
    instrumentation.setMeterProvider(mp);
    await instrumentation.ready();
    await fn(await startDefault(), scrape, histograms);
  } finally {
    instrumentation.disable();
    await stopDefault();
    await mp.shutdown();
  }
}

async function scripted() {
  const clock = new ScriptedClock(0);
  const cpu = new ScriptedCpu();
  const cs = await Carbonscope.create({
    settings: testConfig(),
    logger: memoryLogger().logger,
    grid: new StubGrid(intensityReading('DE', 300)),
    sources: { host: constantSource(10), gpus: [] },
    clock: clock.now,
    timer: new ManualTimer(),
    hostCpu: cpu.hostCpu,
    processCpu: cpu.processCpu,
  });
  await cs.start();
  clock.advance(1000);
  cpu.interval(1, 0.5, 0.5);
  cs.meter.sampleNow();
  return Object.assign(cs, { clock, cpu });
}

describe('carbonscope and the OpenTelemetry SDK', () => {
  afterEach(() => metrics.disable());

  it('joins a meter provider the application registered instead of starting one', async () => {
    const { mp, scrape } = provider();
    metrics.setGlobalMeterProvider(mp);
    const cs = await scripted();
    const { logger } = memoryLogger();
    const attached = await attachToOtel(cs, { OTEL_METRICS_EXPORTER: 'prometheus' }, logger);
    expect(attached.mode).to.equal('global');
    expect(metrics.getMeterProvider()).to.equal(mp);
    const text = await scrape();
    const rapl = { hw_id: 'host', carbonscope_power_source: 'rapl' };
    expect(findSample(text, 'hw_host_energy_total', rapl)).to.equal(10);
    const hostJoules = async () => findSample(await scrape(), 'hw_host_energy_total', rapl);
    // A collection takes a sample (the last is 100 ms old or more): the application's last
    // push, of which carbonscope is not told, carries the energy up to it.
    cs.clock.advance(1000);
    expect(await hostJoules()).to.equal(20);
    await attached.shutdown();
    cs.clock.advance(1000);
    await cs.stop(); // a last sample
    // Still bound: the application's provider, shut down after carbonscope, reads the last one.
    expect(await hostJoules()).to.equal(30);
    // Stopped: no more samples at collection.
    cs.clock.advance(1000);
    expect(await hostJoules()).to.equal(30);
    await mp.shutdown();
  });

  it('starts nothing when OTEL_METRICS_EXPORTER=none and no provider is registered', async () => {
    const cs = await scripted();
    const attached = await attachToOtel(
      cs,
      { OTEL_METRICS_EXPORTER: 'none' },
      memoryLogger().logger,
    );
    expect(attached.mode).to.equal('none');
    // As register's stop() does: the watch for a provider registered later goes.
    await attached.shutdown();
    await cs.stop();
  });

  // An application that awaits its config before it starts its SDK: before, never joined.
  it('with OTEL_METRICS_EXPORTER=none, joins a provider the application registers later', async () => {
    const cs = await scripted();
    const attached = await attachToOtel(
      cs,
      { OTEL_METRICS_EXPORTER: 'none' },
      memoryLogger().logger,
    );
    const { mp, scrape } = provider();
    metrics.setGlobalMeterProvider(mp);
    expect(attached.mode).to.equal('global');
    const rapl = { hw_id: 'host', carbonscope_power_source: 'rapl' };
    expect(findSample(await scrape(), 'hw_host_energy_total', rapl)).to.equal(10);
    await attached.shutdown();
    await cs.stop();
    await mp.shutdown();
  });

  it('starts nothing with OTEL_SDK_DISABLED=true, whatever OTEL_METRICS_EXPORTER says', async () => {
    const cs = await scripted();
    const attached = await attachToOtel(
      cs,
      { OTEL_SDK_DISABLED: 'TRUE', OTEL_METRICS_EXPORTER: 'otlp' },
      memoryLogger().logger,
    );
    expect(attached.mode).to.equal('none');
    await attached.shutdown();
    await cs.stop();
  });

  it('starts its own provider from OTEL_* variables and serves /metrics on its own server', async () => {
    const cs = await scripted();
    const port = 19_000 + Math.floor(Math.random() * 1000);
    const env = {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    };
    const attached = await attachToOtel(cs, env, memoryLogger().logger);
    try {
      expect(attached.mode).to.equal('own');
      let text = '';
      for (let i = 0; i < 50 && !text; i++) {
        text = await fetch(`http://localhost:${port}/metrics`).then(
          (r) => r.text(),
          () => new Promise<string>((r) => setTimeout(() => r(''), 20)),
        );
      }
      // carbonscope's own endpoint names as the OTel Collector does: with the unit word.
      const rapl = { hw_id: 'host', carbonscope_power_source: 'rapl' };
      expect(findSample(text, 'hw_host_power_watts', rapl)).to.equal(10);
      // Its labels are the service's and the Collector's: one scope, so no otel_scope_* labels.
      expect(text).not.to.include('otel_scope_');
      expect((await fetch(`http://localhost:${port}/other`)).status).to.equal(404);
    } finally {
      await attached.shutdown();
      await cs.stop();
    }
  });

  it("leaves the global meter provider to the application: an SDK started later keeps its own metrics, and carbonscope's move to it", async () => {
    const cs = await scripted();
    const port = 19_000 + Math.floor(Math.random() * 1000);
    const env = {
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
    };
    const log = memoryLogger();
    const attached = await attachToOtel(cs, env, log.logger);
    const { mp, scrape } = provider();
    try {
      expect(attached.mode).to.equal('own');
      // The application's SDK starts after carbonscope's first sample (a config loaded first):
      // its registration must succeed, or its own metrics would go to carbonscope's exporter.
      expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
      metrics.getMeter('shop').createCounter('shop.orders').add(3);
      cs.track('job', () => 1);
      cs.clock.advance(1000);
      cs.cpu.interval(1, 0.5, 0.5);
      cs.meter.sampleNow();
      await waitFor('the global provider attached', () => attached.mode === 'global', 2000);
      cs.track('job', () => 2);
      cs.clock.advance(1000);
      cs.cpu.interval(1, 0.5, 0.5);
      cs.meter.sampleNow();
      const text = await scrape();
      expect(findSample(text, 'shop_orders_total', {})).to.equal(3);
      expect(findSample(text, 'hw_host_energy_total', { hw_id: 'host' })).to.equal(30);
      expect(
        findSample(text, 'carbonscope_operation_energy_count', { carbonscope_operation: 'job' }),
      ).to.be.at.least(1);
      // Its own endpoint is closed: one place serves its figures.
      const own = await fetch(`http://localhost:${port}/metrics`).then(
        (r) => r.status,
        () => 'closed',
      );
      expect(own).to.equal('closed');
    } finally {
      await attached.shutdown();
      await cs.stop();
      await mp.shutdown();
    }
  });

  // localhost, the default host, is served on both loopbacks: one line naming the two addresses,
  // as the README says ("one warning"), where each loopback was a warning of its own.
  for (const [host, where] of [
    ['127.0.0.1', (port: number) => `127.0.0.1:${port}`],
    [undefined, (port: number) => `127.0.0.1:${port} and [::1]:${port}`],
  ] as const) {
    it(`says so where nothing serves its endpoint's port after the hand-over and the provider's readers cannot be read (host ${host ?? 'localhost, the default'})`, async () => {
      const cs = await scripted();
      const port = 19_000 + Math.floor(Math.random() * 1000);
      const env: Record<string, string> = {
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      };
      if (host) env.OTEL_EXPORTER_PROMETHEUS_HOST = host;
      const log = memoryLogger();
      const attached = await attachToOtel(cs, env, log.logger);
      const { mp } = provider();
      // Not the SDK's provider: one that forwards to it (a wrapper), its readers out of reach.
      const wrapper = { getMeter: mp.getMeter.bind(mp) };
      try {
        // The application's SDK starts once carbonscope's endpoint serves (its config loaded
        // first).
        await waitFor('its own endpoint', () =>
          fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.ok),
        );
        expect(metrics.setGlobalMeterProvider(wrapper)).to.equal(true);
        await waitFor('the warning', () =>
          log.lines.find((l) => l.level === 40 && String(l.msg).startsWith('nothing serves')),
        );
        // Both loopbacks probed before it is said.
        await new Promise((r) => setTimeout(r, 200));
        const warned = log.lines.filter(
          (l) => l.level === 40 && String(l.msg).startsWith('nothing serves'),
        );
        expect(warned.map((l) => l.msg)).to.deep.equal([
          `nothing serves ${where(port)} since carbonscope's metrics went to the application's meter provider: an exporter of its that could not listen while carbonscope's own endpoint held the port cannot be found to start again; start the application's SDK before it loads anything slow, or give carbonscope another port (OTEL_EXPORTER_PROMETHEUS_PORT for register, the exporter's own \`port\` in code)`,
        ]);
      } finally {
        await attached.shutdown();
        await cs.stop();
        await mp.shutdown();
      }
    });
  }

  describe('the OTEL_* variables its own provider reads', () => {
    const refused = async (env: Record<string, string>) => {
      const cs = await scripted();
      try {
        await attachToOtel(cs, env, memoryLogger().logger);
        return undefined;
      } catch (err) {
        return err;
      } finally {
        await cs.stop();
      }
    };
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ OTEL_EXPORTER_PROMETHEUS_PORT: 'abc' }, 'OTEL_EXPORTER_PROMETHEUS_PORT', /whole number/],
      [{ OTEL_EXPORTER_PROMETHEUS_PORT: '99999' }, 'OTEL_EXPORTER_PROMETHEUS_PORT', /65535/],
      [
        { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '5s' },
        'OTEL_METRIC_EXPORT_INTERVAL',
        /whole number/,
      ],
      // 1 ms kept a core 96 % busy pushing; the service refuses it too.
      [
        { OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '1' },
        'OTEL_METRIC_EXPORT_INTERVAL',
        /from 100 to/,
      ],
      [
        { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        'OTEL_EXPORTER_OTLP_PROTOCOL',
        // Its traces may go over grpc: the line says how metrics alone go over HTTP.
        /OTLP\/HTTP only: .*OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http\/protobuf .*4318/,
      ],
      [
        { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        /URL/,
      ],
      [
        { OTEL_METRICS_EXPORTER: 'console', OTEL_METRIC_EXPORT_TIMEOUT: '-1' },
        'OTEL_METRIC_EXPORT_TIMEOUT',
        /whole number/,
      ],
    ];
    for (const [vars, variable, reason] of cases) {
      it(`refuses ${variable}=${Object.values(vars).at(-1)} naming it, rather than ignore or misread it`, async () => {
        const err = await refused({ OTEL_METRICS_EXPORTER: 'prometheus', ...vars });
        expect(err).to.be.instanceOf(SettingsError);
        expect((err as SettingsError).variable).to.equal(variable);
        expect((err as Error).message).to.match(reason);
      });
    }
  });

  describe('its own provider pushing OTLP', () => {
    /**
     * attachToOtel with `env`, which the OTLP exporter reads from process.env when it is made
     * (inside attachToOtel, as register passes process.env itself).
     */
    const attachWith = async (cs: Carbonscope, env: Record<string, string>, logger: Logger) => {
      const before = { ...process.env };
      Object.assign(process.env, env);
      try {
        return await attachToOtel(cs, env, logger);
      } finally {
        for (const key of Object.keys(env)) {
          if (before[key] === undefined) delete process.env[key];
          else process.env[key] = before[key];
        }
      }
    };
    /**
     * The application's SDK registers `mp`, which carbonscope joins as it registers, and a sample
     * (the scripted clock's) settles what ended before it.
     */
    const appStarts = async (
      cs: Awaited<ReturnType<typeof scripted>>,
      attached: Awaited<ReturnType<typeof attachToOtel>>,
      mp: MeterProvider,
    ) => {
      metrics.setGlobalMeterProvider(mp);
      cs.clock.advance(1000);
      cs.cpu.interval(1, 0.5, 0.5);
      cs.meter.sampleNow();
      await waitFor('the global provider attached', () => attached.mode === 'global', 2000);
    };
    /** A collector, a scripted Carbonscope, and `env` with the variables that push there. */
    const withCollector = async (env: Record<string, string>) => {
      const receiver = await otlpReceiver();
      const cs = await scripted();
      const pushing = { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
      return { receiver, cs, env: { ...pushing, ...env } };
    };
    /** One operation, `job`, settled by the next sample. */
    const oneJob = (cs: Awaited<ReturnType<typeof scripted>>) => {
      cs.track('job', () => 42);
      cs.clock.advance(1000);
      cs.cpu.interval(1, 0.5, 0.5);
      cs.meter.sampleNow();
    };

    it('reads only what it uses: grpc for traces, under a metrics protocol, is fine', async () => {
      const { receiver, cs, env } = await withCollector({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_PROMETHEUS_PORT: 'not read without prometheus',
      });
      try {
        const attached = await attachWith(cs, env, memoryLogger().logger);
        expect(attached.mode).to.equal('own');
        await attached.shutdown();
        expect(receiver.pushes).to.have.length(1);
      } finally {
        await cs.stop();
        await receiver.close();
      }
    });

    it('says in one line when its pushes fail, and again for a new failure after one got through', async () => {
      // A collector that refuses the credentials, then takes pushes, then refuses them again.
      let status = 401;
      let pushes = 0;
      const collector = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          pushes++;
          res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
        });
      });
      collector.listen(0, '127.0.0.1');
      await once(collector, 'listening');
      const url = `http://user:hunter2@127.0.0.1:${(collector.address() as AddressInfo).port}`;
      const cs = await scripted();
      const log = memoryLogger();
      const env = {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: url,
        // The push's timeout is the interval: at 100 ms a loaded machine's answer came after it,
        // and the first line told of that timeout, not of the 401.
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      };
      const warnings = () => log.lines.filter((l) => l.level === 40).map((l) => String(l.msg));
      const attached = await attachWith(cs, env, log.logger);
      try {
        const pushed = async (n: number) => {
          const until = pushes + n;
          await waitFor(`${until} pushes`, () => pushes >= until, 5000);
        };
        await pushed(3);
        expect(warnings()).to.have.length(1);
        expect(warnings()[0])
          .to.match(/metrics/)
          .and.to.match(/401/);
        expect(warnings()[0]).to.include('127.0.0.1').and.not.include('hunter2');
        status = 200;
        await pushed(2);
        status = 401;
        await pushed(2);
        // The failure, the push that got through again (at the failure's level), the new one.
        expect(warnings()).to.have.length(3);
        expect(warnings()[1]).to.match(/^metrics pushed to .* again$/);
      } finally {
        status = 200;
        await attached.shutdown();
        await cs.stop();
        collector.close();
      }
    });

    it('pushes what was counted when it shuts down, with no periodic push due', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      try {
        const attached = await attachWith(cs, env, memoryLogger().logger);
        expect(attached.mode).to.equal('own');
        oneJob(cs);
        await attached.shutdown();
        expect(receiver.pushes).to.have.length(1);
        const push = receiver.pushes[0]?.body;
        const job = histogramPoint(
          push,
          METRICS.operationEnergy.name,
          'carbonscope.operation',
          'job',
        );
        expect(job?.count).to.equal(1);
        expect(sumOf(metricsOf(push), METRICS.hostEnergy.name)).to.equal(20);
      } finally {
        await cs.stop();
        await receiver.close();
      }
    });

    it('hands over to an SDK started late with no push of its own after, what it counted going there', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      const log = memoryLogger();
      const attached = await attachWith(cs, env, log.logger);
      const { mp, scrape } = provider();
      const jobs: number[] = [];
      cs.onEnd((f) => {
        if (f.operation === 'job') jobs.push(f.joules);
      });
      try {
        // Two jobs before the application's SDK starts, settled into carbonscope's own provider.
        oneJob(cs);
        oneJob(cs);
        await appStarts(cs, attached, mp);
        oneJob(cs);
        // All three jobs are in the application's provider, their energy to the last joule.
        const text = await scrape();
        await attached.shutdown();
        // Nothing more went out of its own provider (with no collector there, an error line).
        expect(receiver.pushes).to.have.length(0);
        expect(log.lines.filter((l) => Number(l.level) >= 40)).to.deep.equal([]);
        const job = { carbonscope_operation: 'job', carbonscope_estimated: 'false' };
        expect(jobs).to.have.length(3);
        expect(findSample(text, 'carbonscope_operation_energy_count', job)).to.equal(3);
        expect(findSample(text, 'carbonscope_operation_energy_sum', job)).to.be.closeTo(
          jobs.reduce((a, b) => a + b, 0),
          1e-12,
        );
        expect(findSample(text, 'hw_host_energy_total', { hw_id: 'host' })).to.equal(50);
      } finally {
        await cs.stop();
        await mp.shutdown();
        await receiver.close();
      }
    });

    // An application may shut its provider down before carbonscope's next sample (10 s by
    // default): joined only then, its last push carried none of carbonscope's figures.
    it('hands over as the application registers, with no sample between: its collection gets all', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      const log = memoryLogger();
      const attached = await attachWith(cs, env, log.logger);
      const { mp, scrape } = provider();
      try {
        // One settled into its own provider, one ended since that sample (not settled yet).
        oneJob(cs);
        cs.track('job', () => 42);
        expect(attached.mode).to.equal('own');
        metrics.setGlobalMeterProvider(mp);
        expect(attached.mode, 'right after the registration').to.equal('global');
        cs.track('job', () => 42);
        // No sample: the application's collection settles the two that ended since the last.
        cs.clock.advance(1000);
        cs.cpu.interval(1, 0.5, 0.5);
        const text = await scrape();
        await attached.shutdown();
        expect(receiver.pushes).to.have.length(0);
        expect(log.lines.filter((l) => Number(l.level) >= 40)).to.deep.equal([]);
        const job = { carbonscope_operation: 'job', carbonscope_estimated: 'false' };
        expect(findSample(text, 'carbonscope_operation_energy_count', job)).to.equal(3);
        expect(findSample(text, 'hw_host_energy_total', { hw_id: 'host' })).to.equal(30);
      } finally {
        await cs.stop();
        await mp.shutdown();
        await receiver.close();
      }
    });

    // A registration the watch does not hear (after metrics.disable()) is found at a sample,
    // the last one of stop() included: by then the application may have shut its provider down,
    // and moving there lost what carbonscope counted, without a word.
    it('does not move to a provider shut down before a sample found it: its own pushes all', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      // The API's global object made, as any registration makes it: the watch is on its property.
      metrics.setGlobalMeterProvider(new MeterProvider());
      metrics.disable();
      const log = memoryLogger();
      const attached = await attachWith(cs, env, log.logger);
      const mp = new MeterProvider();
      try {
        oneJob(cs);
        // It takes the watched property away: the next registration is not heard.
        metrics.disable();
        expect(metrics.setGlobalMeterProvider(mp)).to.equal(true);
        await mp.shutdown();
        oneJob(cs);
        expect(attached.mode).to.equal('own');
        await attached.shutdown();
        expect(receiver.pushes).to.have.length(1);
        const push = receiver.pushes[0]?.body;
        const name = METRICS.operationEnergy.name;
        expect(histogramPoint(push, name, 'carbonscope.operation', 'job')?.count).to.equal(2);
      } finally {
        await cs.stop();
        await receiver.close();
      }
    });

    it('joins an SDK registered while its own was loading: the own one pushes nothing', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      const log = memoryLogger();
      const { mp, scrape } = provider();
      // Decided before the registration, which comes while the SDK's packages load.
      const attaching = attachWith(cs, env, log.logger);
      metrics.setGlobalMeterProvider(mp);
      const attached = await attaching;
      try {
        expect(attached.mode).to.equal('global');
        oneJob(cs);
        const text = await scrape();
        await attached.shutdown();
        expect(receiver.pushes).to.have.length(0);
        const job = { carbonscope_operation: 'job', carbonscope_estimated: 'false' };
        expect(findSample(text, 'carbonscope_operation_energy_count', job)).to.equal(1);
      } finally {
        await cs.stop();
        await mp.shutdown();
        await receiver.close();
      }
    });

    // The move runs inside the application's setGlobalMeterProvider, where what it throws is
    // kept from the application: it said the metrics went there, and nothing of why they did not.
    it('a provider it cannot move to: the registration stands, its own pushes, a warning says why', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '600000' });
      const log = memoryLogger();
      const attached = await attachWith(cs, env, log.logger);
      const broken = new MeterProvider();
      broken.getMeter = () => {
        throw new Error('no meters here');
      };
      try {
        expect(metrics.setGlobalMeterProvider(broken)).to.equal(true);
        expect(attached.mode).to.equal('own');
        oneJob(cs);
        await attached.shutdown();
        expect(receiver.pushes).to.have.length(1);
        const push = receiver.pushes[0]?.body;
        const name = METRICS.operationEnergy.name;
        expect(histogramPoint(push, name, 'carbonscope.operation', 'job')?.count).to.equal(1);
        const said = log.lines.filter((l) => Number(l.level) >= 30).map((l) => String(l.msg));
        expect(said.filter((l) => l.includes('go there now'))).to.deep.equal([]);
        expect(said.filter((l) => l.includes('no meters here'))).to.have.length(1);
      } finally {
        await cs.stop();
        await receiver.close();
      }
    });

    // The application's provider may throw anything: the warning names it as messageOf can.
    for (const { name, source, said } of ODD_THROWS) {
      it(`a provider whose getMeter throws ${name}: the warning names it`, async () => {
        const { receiver, cs, env } = await withCollector({
          OTEL_METRIC_EXPORT_INTERVAL: '600000',
        });
        const log = memoryLogger();
        const attached = await attachWith(cs, env, log.logger);
        const broken = new MeterProvider();
        broken.getMeter = () => {
          throw textlessValue(source);
        };
        try {
          expect(metrics.setGlobalMeterProvider(broken)).to.equal(true);
          await attached.shutdown();
          const warned = log.lines.filter((l) => Number(l.level) >= 40).map((l) => String(l.msg));
          expect(warned).to.deep.equal([
            `carbonscope's metrics stay with its own SDK: the application's meter provider failed: ${said}`,
          ]);
        } finally {
          await cs.stop();
          await receiver.close();
        }
      });
    }

    it('hands over under delta temporality with every figure exported once: what it pushed is not pushed again', async () => {
      const { receiver, cs, env } = await withCollector({
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
        // The push's timeout is the interval: at 100 ms a loaded machine's answer came after it,
        // and what the collector had taken went to the application again (see handOverCase).
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      });
      const attached = await attachWith(cs, env, memoryLogger().logger);
      // The application's SDK pushing deltas too, as the same variable tells its exporter.
      const appExporter = new sdkMetrics.InMemoryMetricExporter(
        sdkMetrics.AggregationTemporality.DELTA,
      );
      const appReader = new sdkMetrics.PeriodicExportingMetricReader({
        exporter: appExporter,
        exportIntervalMillis: 600_000,
      });
      const mp = new MeterProvider({ readers: [appReader] });
      const jobs: number[] = [];
      cs.onEnd((f) => {
        if (f.operation === 'job') jobs.push(f.joules);
      });
      const pushedJobs = () =>
        receiver.pushes.reduce(
          (n, p) =>
            n +
            (histogramPoint(p.body, METRICS.operationEnergy.name, 'carbonscope.operation', 'job')
              ?.count ?? 0),
          0,
        );
      try {
        oneJob(cs);
        oneJob(cs);
        // Pushed by its own provider before the application's SDK starts.
        await waitFor('both jobs pushed', () => pushedJobs() === 2, 5000);
        oneJob(cs);
        await appStarts(cs, attached, mp);
        oneJob(cs);
        await attached.shutdown();
        await appReader.forceFlush();
        const own = receiver.pushes.map((p) => metricsOf(p.body));
        const app = appExporter
          .getMetrics()
          .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
        const appPoints = (name: string): Array<sdkMetrics.DataPoint<unknown>> =>
          app
            .filter((m) => m.descriptor.name === name)
            .flatMap((m): Array<sdkMetrics.DataPoint<unknown>> => m.dataPoints);
        const appJobs = appPoints(METRICS.operationEnergy.name)
          .filter((p) => p.attributes['carbonscope.operation'] === 'job')
          .map((p) => p.value as { count: number; sum: number });
        const ownJobs = receiver.pushes
          .map((p) =>
            histogramPoint(p.body, METRICS.operationEnergy.name, 'carbonscope.operation', 'job'),
          )
          .filter((p) => p !== undefined);
        expect(jobs).to.have.length(4);
        const count = [...ownJobs, ...appJobs].reduce((n, p) => n + Number(p.count), 0);
        const sum = [...ownJobs, ...appJobs].reduce((n, p) => n + Number(p.sum), 0);
        expect(count, 'operations exported').to.equal(4);
        expect(sum, 'operation energy exported').to.be.closeTo(
          jobs.reduce((a, b) => a + b, 0),
          1e-9,
        );
        const ownEnergy = own.reduce((n, m) => n + (sumOf(m, METRICS.hostEnergy.name) ?? 0), 0);
        const appEnergy = appPoints(METRICS.hostEnergy.name).reduce(
          (n, p) => n + Number(p.value),
          0,
        );
        // 10 W for 6 s: the start's sample, then five more, each a second later.
        expect(ownEnergy + appEnergy, 'host energy exported').to.equal(60);
      } finally {
        await cs.stop();
        await mp.shutdown();
        await receiver.close();
      }
    });

    /** A histogram's figures, added up: its count, sum and bucket counts. */
    interface Figures {
      count: number;
      sum: number;
      buckets: number[];
    }
    const noFigures = (): Figures => ({ count: 0, sum: 0, buckets: [] });
    const addTo = (f: Figures, count: number, sum: number, buckets: readonly number[]) => {
      f.count += count;
      f.sum += sum;
      buckets.forEach((n, i) => {
        f.buckets[i] = (f.buckets[i] ?? 0) + Number(n);
      });
    };

    /**
     * How the collector answers carbonscope's own pushes before the hand-over: `ok`; `failed`
     * (each, with 400); `held, then failed` or `held, then ok` (the push carrying the first jobs
     * is held in flight until the application's SDK took over).
     */
    type Answer = 'ok' | 'failed' | 'held, then failed' | 'held, then ok';

    /**
     * A hand-over to an application's SDK started late: what was counted, what carbonscope's own
     * provider pushed as deltas that the collector took, and what the application's exporter
     * got (added up when delta, its last figures when cumulative).
     */
    async function handOverCase(
      own: 'delta' | 'cumulative',
      app: 'delta' | 'cumulative',
      answer: Answer,
    ) {
      const job = (push: { body: Parameters<typeof histogramPoint>[0] }, operation = 'job') =>
        histogramPoint(push.body, METRICS.operationEnergy.name, 'carbonscope.operation', operation);
      let release: ((status: number) => void) | undefined;
      const held = answer.startsWith('held');
      const receiver = await otlpReceiver({
        answer: (push) => {
          if (answer === 'failed') return 400;
          if (!held || release || !job(push)) return 200;
          return new Promise<number>((resolve) => {
            release = resolve;
          });
        },
      });
      const cs = await scripted();
      const env = {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: own,
        // The push's timeout is the interval: a held push must still be in flight at the
        // hand-over, and one the collector took must be known to have arrived. At 100 ms, a
        // loaded machine's answer came after it: the push timed out, its figures were handed
        // to the application as unpushed, and the collector had them twice.
        OTEL_METRIC_EXPORT_INTERVAL: held ? '1000' : '500',
      };
      const attached = await attachWith(cs, env, memoryLogger().logger);
      const appExporter = new sdkMetrics.InMemoryMetricExporter(
        app === 'delta'
          ? sdkMetrics.AggregationTemporality.DELTA
          : sdkMetrics.AggregationTemporality.CUMULATIVE,
      );
      const appReader = new sdkMetrics.PeriodicExportingMetricReader({
        exporter: appExporter,
        exportIntervalMillis: 600_000,
      });
      const mp = new MeterProvider({ readers: [appReader] });
      const counted = noFigures();
      const boundaries = METRICS.operationEnergy.buckets;
      cs.onEnd((f) => {
        if (f.operation !== 'job') return;
        const bucket = boundaries.findIndex((b) => f.joules <= b);
        const buckets = boundaries.map(() => 0).concat(0);
        buckets[bucket === -1 ? boundaries.length : bucket] = 1;
        addTo(counted, 1, f.joules, buckets);
      });
      try {
        oneJob(cs);
        oneJob(cs);
        await waitFor('a push with the job', () => receiver.received.some((p) => job(p)), 5000);
        oneJob(cs);
        await appStarts(cs, attached, mp);
        release?.(answer === 'held, then failed' ? 400 : 200);
        oneJob(cs);
        // An operation the application's SDK sees first.
        cs.track('late', () => 42);
        cs.clock.advance(1000);
        cs.cpu.interval(1, 0.5, 0.5);
        cs.meter.sampleNow();
        await attached.shutdown();
        await appReader.forceFlush();
        const ownJobs = noFigures();
        let ownEnergy = 0;
        // A collector adds deltas up; of a cumulative series it keeps the last point, beside the
        // application's (its resource has no service.instance.id, the own provider's has one).
        for (const push of own === 'delta' ? receiver.pushes : receiver.pushes.slice(-1)) {
          const p = job(push);
          if (p) addTo(ownJobs, Number(p.count), Number(p.sum), p.bucketCounts);
          ownEnergy += sumOf(metricsOf(push.body), METRICS.hostEnergy.name) ?? 0;
        }
        const exports = appExporter.getMetrics();
        const appMetrics = (app === 'delta' ? exports : exports.slice(-1)).flatMap((r) =>
          r.scopeMetrics.flatMap((s) => s.metrics),
        );
        const appPoints = (name: string) =>
          appMetrics
            .filter((m) => m.descriptor.name === name)
            .flatMap((m): Array<sdkMetrics.DataPoint<unknown>> => m.dataPoints);
        const appHistogram = (operation: string) => {
          const f = noFigures();
          for (const p of appPoints(METRICS.operationEnergy.name)) {
            if (p.attributes['carbonscope.operation'] !== operation) continue;
            const v = p.value as sdkMetrics.Histogram;
            addTo(f, v.count, v.sum ?? 0, v.buckets.counts);
          }
          return f;
        };
        const appEnergy = appPoints(METRICS.hostEnergy.name).reduce(
          (n, p) => n + Number(p.value),
          0,
        );
        return {
          counted,
          exported: { own: ownJobs, app: appHistogram('job') },
          late: appHistogram('late').count,
          energy: ownEnergy + appEnergy,
        };
      } finally {
        release?.(200);
        await cs.stop();
        await mp.shutdown();
        await receiver.close();
      }
    }

    const cases: Array<['delta' | 'cumulative', 'delta' | 'cumulative', Answer]> = [
      ['delta', 'delta', 'ok'],
      ['delta', 'delta', 'failed'],
      ['delta', 'delta', 'held, then failed'],
      ['delta', 'delta', 'held, then ok'],
      ['delta', 'cumulative', 'failed'],
      ['delta', 'cumulative', 'held, then failed'],
      ['cumulative', 'delta', 'ok'],
      ['cumulative', 'cumulative', 'ok'],
      ['cumulative', 'delta', 'failed'],
      ['cumulative', 'cumulative', 'held, then failed'],
      ['cumulative', 'cumulative', 'held, then ok'],
    ];
    for (const [own, app, answer] of cases) {
      it(`hands over (own ${own}, application ${app}, own pushes ${answer}): each operation and joule exported once`, async () => {
        const { counted, exported, late, energy } = await handOverCase(own, app, answer);
        expect(counted.count).to.equal(4);
        const count = exported.own.count + exported.app.count;
        const buckets = counted.buckets.map(
          (_, i) => (exported.own.buckets[i] ?? 0) + (exported.app.buckets[i] ?? 0),
        );
        expect(count, 'operations exported').to.equal(4);
        expect(buckets, 'their buckets').to.deep.equal(counted.buckets);
        expect(exported.own.sum + exported.app.sum, 'their energy').to.be.closeTo(
          counted.sum,
          1e-9,
        );
        expect(late, 'an operation first seen after the hand-over').to.equal(1);
        // 10 W for 7 s: the start's sample, then six more, each a second later.
        expect(energy, 'host energy exported').to.equal(70);
      });
    }

    it('takes an export interval under the default 30 s timeout, the timeout then being the interval (as NodeSDK does)', async () => {
      const { receiver, cs, env } = await withCollector({ OTEL_METRIC_EXPORT_INTERVAL: '200' });
      const log = memoryLogger();
      const attached = await attachWith(cs, env, log.logger);
      try {
        expect(attached.mode).to.equal('own');
        oneJob(cs);
        await waitFor('two pushes', () => receiver.pushes.length >= 2, 5000);
        // Only a timeout the user set above the interval is worth a warning. A push that runs
        // past its 200 ms on a loaded machine is warned of too, rightly: not what this is about.
        const aboutTheTimeout = log.lines.filter(
          (l) => Number(l.level) >= 40 && String(l.msg).includes('OTEL_METRIC_EXPORT_TIMEOUT'),
        );
        expect(aboutTheTimeout).to.deep.equal([]);
      } finally {
        await attached.shutdown();
        await cs.stop();
        await receiver.close();
      }
    });
  });

  it('the instrumentation binds to the provider it is given, and detaches on disable()', async () => {
    const { mp, scrape } = provider();
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      logger: memoryLogger().logger,
    });
    try {
      instrumentation.setMeterProvider(mp);
      await instrumentation.ready();
      expect(instrumentation.getConfig().enabled).to.equal(true);
      expect(instrumentation.instrumentationName).to.equal('carbonscope');
      expect(await scrape()).to.include('carbonscope_grid_carbon_intensity');
      const cs = await startDefault();
      // Each operation is recorded when the next sample settles it.
      cs.track('before', () => 1);
      cs.meter.sampleNow();
      instrumentation.disable();
      cs.track('after', () => 2);
      cs.meter.sampleNow();
      const text = await scrape();
      const count = (operation: string) =>
        findSample(text, 'carbonscope_operation_energy_count', {
          carbonscope_operation: operation,
        });
      expect(count('before')).to.equal(1);
      expect(count('after')).to.equal(undefined);
    } finally {
      instrumentation.disable();
      await stopDefault();
      await mp.shutdown();
    }
  });

  describe('register and the instrumentation bound to the same provider (both documented ways in)', () => {
    // `--import carbonscope/register` joins the registered provider (attachToOtel); NodeSDK
    // hands the same one to CarbonscopeInstrumentation: both fed it every operation.
    for (const first of ['instrumentation', 'register'] as const) {
      it(`records each operation once, with one warning naming both (${first} bound first)`, async () => {
        const { mp, scrape } = provider();
        metrics.setGlobalMeterProvider(mp);
        const told = memoryLogger();
        const instrumentation = new CarbonscopeInstrumentation({
          settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
          logger: told.logger,
          enabled: false,
        });
        const env = { OTEL_METRICS_EXPORTER: 'prometheus' };
        const bindInstrumentation = async () => {
          instrumentation.setMeterProvider(mp);
          instrumentation.enable();
          await instrumentation.ready();
        };
        try {
          if (first === 'instrumentation') await bindInstrumentation();
          const cs = await startDefault({ settings: testConfig({ ENERGY_SOURCE: 'estimate' }) });
          await attachToOtel(cs, env, told.logger);
          if (first === 'register') await bindInstrumentation();
          cs.track('resize', () => 1);
          cs.track('resize', () => 2);
          cs.meter.sampleNow();
          const text = await scrape();
          const operation = { carbonscope_operation: 'resize' };
          expect(findSample(text, 'carbonscope_operation_energy_count', operation)).to.equal(2);
          const warnings = told.lines.filter((l) => String(l.msg).includes('recorded once'));
          expect(warnings.map((l) => l.msg)).to.have.length(1);
          expect(warnings[0]?.msg).to.include('CarbonscopeInstrumentation');
          expect(warnings[0]?.msg).to.include('carbonscope/register');
          // The one binding stays while either still uses it.
          instrumentation.disable();
          cs.track('resize', () => 3);
          cs.meter.sampleNow();
          const after = await scrape();
          expect(findSample(after, 'carbonscope_operation_energy_count', operation)).to.equal(3);
        } finally {
          instrumentation.disable();
          await stopDefault();
          await mp.shutdown();
        }
      });
    }
  });

  describe('register and the instrumentation bound to two providers', () => {
    it('record each operation in each, with no warning; a provider shut down hands over to the next', async () => {
      const global = provider();
      const own = provider();
      const next = provider();
      metrics.setGlobalMeterProvider(global.mp);
      const told = memoryLogger();
      const instrumentation = new CarbonscopeInstrumentation({
        settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
        logger: told.logger,
        enabled: false,
      });
      const operation = { carbonscope_operation: 'resize' };
      const count = async (scrape: () => Promise<string>) =>
        findSample(await scrape(), 'carbonscope_operation_energy_count', operation);
      try {
        const cs = await startDefault({ settings: testConfig({ ENERGY_SOURCE: 'estimate' }) });
        await attachToOtel(cs, { OTEL_METRICS_EXPORTER: 'prometheus' }, told.logger);
        instrumentation.setMeterProvider(own.mp);
        instrumentation.enable();
        await instrumentation.ready();
        cs.track('resize', () => 1);
        cs.meter.sampleNow();
        expect(await count(global.scrape)).to.equal(1);
        expect(await count(own.scrape)).to.equal(1);
        await own.mp.shutdown();
        instrumentation.setMeterProvider(next.mp);
        cs.track('resize', () => 2);
        cs.meter.sampleNow();
        expect(await count(global.scrape)).to.equal(2);
        expect(await count(next.scrape)).to.equal(1);
        expect(told.lines.filter((l) => String(l.msg).includes('recorded once'))).to.deep.equal([]);
      } finally {
        instrumentation.disable();
        await stopDefault();
        await global.mp.shutdown();
        await next.mp.shutdown();
      }
    });
  });

  describe('register and the instrumentation from two copies of the package, of two versions', () => {
    // An application's copy and a dependency's: they share the default Carbonscope, and their
    // meters of one provider differ by the scope's version. Bound to each, every operation was
    // recorded twice, once per scope version.
    it('records each operation once, with one warning', async () => {
      const other = await fromPackageCopy<{
        CarbonscopeInstrumentation: typeof CarbonscopeInstrumentation;
      }>('0.0.0-other', 'instrumentation.js');
      const { mp, scrape } = provider();
      metrics.setGlobalMeterProvider(mp);
      const told = memoryLogger();
      const instrumentation = new other.CarbonscopeInstrumentation({
        settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
        logger: told.logger,
        enabled: false,
      });
      try {
        const cs = await startDefault({ settings: testConfig({ ENERGY_SOURCE: 'estimate' }) });
        await attachToOtel(cs, { OTEL_METRICS_EXPORTER: 'prometheus' }, told.logger);
        instrumentation.setMeterProvider(mp);
        instrumentation.enable();
        await instrumentation.ready();
        cs.track('resize', () => 1);
        cs.meter.sampleNow();
        const text = await scrape();
        const counts = text
          .split('\n')
          .filter((l) => l.startsWith('carbonscope_operation_energy_count{'))
          .filter((l) => l.includes('carbonscope_operation="resize"'));
        expect(counts, text).to.have.length(1);
        expect(
          findSample(text, 'carbonscope_operation_energy_count', {
            carbonscope_operation: 'resize',
          }),
        ).to.equal(1);
        const warnings = told.lines.filter((l) => String(l.msg).includes('recorded once'));
        expect(warnings).to.have.length(1);
      } finally {
        instrumentation.disable();
        await stopDefault();
        await mp.shutdown();
      }
    });
  });

  it('records each settled operation under its own name when names alternate, in the histograms and the scores', async () => {
    await withRecipe(async (cs, scrape) => {
      // Runs of one name and changes of name, as a sample settles them: the listeners keep the
      // last name's series, which must not take the next name's operations.
      for (const name of ['a', 'a', 'b', 'a', 'c', 'c', 'c', 'b', 'a']) cs.track(name, () => 1);
      cs.meter.sampleNow();
      const text = await scrape();
      const count = (operation: string) =>
        findSample(text, 'carbonscope_operation_energy_count', {
          carbonscope_operation: operation,
        });
      expect([count('a'), count('b'), count('c')]).to.deep.equal([4, 2, 3]);
      const scores = new Map(cs.snapshot().operations.map((o) => [o.operation, o.count]));
      expect([scores.get('a'), scores.get('b'), scores.get('c')]).to.deep.equal([4, 2, 3]);
    });
  });

  it("records its histograms in place when its producer is in the application's reader (the README's recipe)", async () => {
    await withRecipe(async (cs, scrape, histograms) => {
      cs.track('resize', () => 1);
      cs.track('resize', () => 2);
      cs.meter.sampleNow();
      // The producer holds the series (the SDK's histograms would hash attributes per record).
      const collected = (await histograms.collect()).resourceMetrics.scopeMetrics[0]?.metrics;
      const energy = collected?.find((m) => m.descriptor.name === 'carbonscope.operation.energy');
      expect(energy?.dataPoints.map((p) => p.attributes)).to.deep.include({
        'carbonscope.operation': 'resize',
        'carbonscope.estimated': true,
      });
      const text = await scrape();
      expect(
        findSample(text, 'carbonscope_operation_energy_count', { carbonscope_operation: 'resize' }),
      ).to.equal(2);
      // Exported once: through the producer, not also through the SDK's own histogram.
      expect(text.match(/^# TYPE carbonscope_operation_energy histogram$/gm)).to.have.length(1);
    });
  });
});
