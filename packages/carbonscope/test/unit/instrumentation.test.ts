import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { CarbonscopeInstrumentation } from '../../src/instrumentation.js';
import { LocalHistograms } from '../../src/otel/binding/local-histograms.js';
import { startDefault, stopDefault } from '../../src/otel/default.js';
import { SCOPE } from '../../src/otel/scope.js';
import type { Carbonscope } from '../../src/runtime/carbonscope.js';
import { ManualReader } from '../helpers/metrics.js';
import { memoryLogger, testConfig } from './energy/scripted.js';

/** An application's own pushing provider: one push a test can read, at its shutdown. */
function pushingProvider(temporality: AggregationTemporality, producers = false) {
  const exporter = new InMemoryMetricExporter(temporality);
  const histograms = new LocalHistograms(sdkMetrics, SCOPE);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: 600_000,
    ...(producers ? { metricProducers: [histograms.producer(exporter)] } : {}),
  });
  const mp = new MeterProvider({ readers: [reader] });
  return { mp, exporter, histograms: producers ? histograms : undefined };
}

/** The count each push carried of `operation`'s energy histogram. */
function pushedCounts(exporter: InMemoryMetricExporter, operation: string): number[] {
  return exporter.getMetrics().map((push) => {
    let count = 0;
    for (const scope of push.scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== 'carbonscope.operation.energy') continue;
        for (const point of metric.dataPoints) {
          if (point.attributes['carbonscope.operation'] !== operation) continue;
          count += (point.value as { count: number }).count;
        }
      }
    }
    return count;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** No periodic sample within a test's time: only a collection, or the test, takes one. */
const SLOW_SAMPLES = { ENERGY_SAMPLE_INTERVAL_MS: '60000' };

/**
 * `fn` given carbonscope's default instance, measured by an instrumentation bound to `mp`
 * (estimated energy at 300 g/kWh, `env` on top); both stopped after it.
 */
async function instrumented(
  mp: MeterProvider,
  { histograms, env }: { histograms?: LocalHistograms; env?: Record<string, string> },
  fn: (cs: Carbonscope, instrumentation: CarbonscopeInstrumentation) => Promise<void>,
): Promise<void> {
  const instrumentation = new CarbonscopeInstrumentation({
    settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300', ...env }),
    logger: memoryLogger().logger,
    ...(histograms ? { histograms } : {}),
  });
  try {
    instrumentation.setMeterProvider(mp);
    await instrumentation.ready();
    await fn(await startDefault(), instrumentation);
  } finally {
    instrumentation.disable();
    await stopDefault();
  }
}

describe('CarbonscopeInstrumentation and the application shutting its SDK down first', function () {
  this.timeout(20_000);

  for (const [name, temporality, producers] of [
    ["the SDK's histograms, cumulative", AggregationTemporality.CUMULATIVE, false],
    ['local histograms in the reader, cumulative', AggregationTemporality.CUMULATIVE, true],
    ['local histograms in the reader, delta', AggregationTemporality.DELTA, true],
  ] as const) {
    it(`pushes at shutdown the operations ended since the last sample (${name})`, async () => {
      const { mp, exporter, histograms } = pushingProvider(temporality, producers);
      // No sample comes by itself within the test: only the shutdown's collection settles.
      await instrumented(mp, { histograms, env: SLOW_SAMPLES }, async (cs) => {
        await cs.meter.firstSample();
        for (let i = 0; i < 3; i++) cs.track('job', () => i);
        await sleep(150);
        // A periodic sample settles those; the application shuts down within the shortest
        // interval a sample is taken for on its own (100 ms), two more having ended.
        cs.meter.sampleNow();
        for (let i = 0; i < 2; i++) cs.track('job', () => i);
        await mp.shutdown();
        expect(pushedCounts(exporter, 'job')).to.deep.equal([5]);
      });
    });
  }

  it('pushes at shutdown the operations of a process that ends before the first sample', async () => {
    const { mp, exporter } = pushingProvider(AggregationTemporality.CUMULATIVE);
    await instrumented(mp, {}, async (cs) => {
      expect(cs.meter.latest(), 'the first sample comes 100 ms after the start').to.equal(null);
      cs.track('job', () => 1);
      await mp.shutdown();
      expect(pushedCounts(exporter, 'job')).to.deep.equal([1]);
    });
  });

  it('its local histograms, read before the SDK collects anything, carry what ended since the last sample', async () => {
    const { mp, histograms } = pushingProvider(AggregationTemporality.CUMULATIVE, true);
    if (!histograms) throw new Error('no local histograms');
    try {
      await instrumented(mp, { histograms, env: SLOW_SAMPLES }, async (cs) => {
        await cs.meter.firstSample();
        cs.track('job', () => 1);
        // A reader reads its producers beside the SDK's collection, in an order the SDK does not
        // promise: the producer settles by itself.
        const collected = (await histograms.collect()).resourceMetrics.scopeMetrics[0]?.metrics;
        const energy = collected?.find((m) => m.descriptor.name === 'carbonscope.operation.energy');
        expect(energy?.dataPoints.map((p) => (p.value as { count: number }).count)).to.deep.equal([
          1,
        ]);
      });
    } finally {
      await mp.shutdown();
    }
  });

  it("takes only what an application sets: bindMetrics' options for carbonscope's own entry points are not in its type", () => {
    const internal: Array<() => unknown> = [
      // @ts-expect-error: the instrumentation settles at collection itself
      () => new CarbonscopeInstrumentation({ enabled: false, settleAtCollection: true }),
      // @ts-expect-error: register's, for what settled before it bound
      () => new CarbonscopeInstrumentation({ enabled: false, settledBefore: () => [] }),
      // @ts-expect-error: the CLI's, for a child's CPU time
      () => new CarbonscopeInstrumentation({ enabled: false, processMeasured: () => true }),
    ];
    expect(internal).to.have.length(3);
    // What the READMEs tell an application to set stays.
    const histograms = new LocalHistograms(sdkMetrics, SCOPE);
    const config = new CarbonscopeInstrumentation({
      enabled: false,
      http: true,
      histograms,
    }).getConfig();
    expect(config.http).to.equal(true);
    expect(config.histograms).to.equal(histograms);
  });

  it('keeps what its local histograms counted when disabled before the last push, or bound again', async () => {
    const { mp, exporter, histograms } = pushingProvider(AggregationTemporality.CUMULATIVE, true);
    await instrumented(mp, { histograms }, async (cs, instrumentation) => {
      await cs.meter.firstSample();
      cs.track('job', () => 1);
      cs.meter.sampleNow();
      // Given the same provider again (as registerInstrumentations does): one series still.
      instrumentation.setMeterProvider(mp);
      cs.track('job', () => 2);
      cs.meter.sampleNow();
      // The SDK's own histograms keep their figures when the instrumentation detaches: so do
      // carbonscope's.
      instrumentation.disable();
      await mp.shutdown();
      expect(pushedCounts(exporter, 'job')).to.deep.equal([2]);
      const points = exporter
        .getMetrics()[0]
        ?.scopeMetrics.flatMap((m) => m.metrics)
        .filter((m) => m.descriptor.name === 'carbonscope.operation.energy')
        .flatMap((m) => m.dataPoints.map((p) => p.attributes));
      expect(points).to.have.length(1);
    });
  });
});

describe('CarbonscopeInstrumentation disabled', function () {
  this.timeout(20_000);

  /** How many of carbonscope's metrics a collection of `reader` holds. */
  async function carbonscopeMetrics(reader: ManualReader): Promise<number> {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics
      .filter((s) => s.scope.name === SCOPE.name)
      .reduce((n, s) => n + s.metrics.length, 0);
  }

  it('binds neither at a start that ended after disable() nor a provider handed meanwhile', async () => {
    const reader = new ManualReader();
    const mp = new MeterProvider({ readers: [reader] });
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      logger: memoryLogger().logger,
    });
    const starting = instrumentation.ready();
    instrumentation.disable();
    try {
      await starting;
      instrumentation.setMeterProvider(mp);
      expect(await carbonscopeMetrics(reader)).to.equal(0);
      instrumentation.enable();
      await instrumentation.ready();
      expect(await carbonscopeMetrics(reader)).to.be.above(0);
    } finally {
      instrumentation.disable();
      await stopDefault();
      await mp.shutdown();
    }
  });
});

/** Whether a request to a server of this process ends as an operation of `cs` (is tracked). */
async function tracksRequests(cs: Carbonscope): Promise<boolean> {
  const server = createServer((_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let finished = 0;
  const off = cs.onFinish(() => {
    finished++;
  });
  try {
    const { port } = server.address() as AddressInfo;
    await (await fetch(`http://127.0.0.1:${port}/`)).text();
    // Its end is published as the response finishes, before the client has read it all.
    await sleep(50);
    return finished > 0;
  } finally {
    off();
    server.closeAllConnections();
    server.close();
  }
}

// register and the instrumentation share the process's one Carbonscope: disable() stopped the
// request tracking register had asked for too, and the application's requests went unmetered.
describe('CarbonscopeInstrumentation beside register', function () {
  this.timeout(20_000);

  for (const first of ['register', 'the instrumentation'] as const) {
    it(`disable() leaves register's request tracking on (${first} tracking first)`, async () => {
      const mp = new MeterProvider();
      const cs = await startDefault({
        settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
        logger: memoryLogger().logger,
      });
      const instrumentation = new CarbonscopeInstrumentation({
        logger: memoryLogger().logger,
        enabled: false,
      });
      try {
        if (first === 'register') cs.trackRequests();
        instrumentation.setMeterProvider(mp);
        instrumentation.enable();
        await instrumentation.ready();
        if (first !== 'register') cs.trackRequests();
        instrumentation.disable();
        expect(await tracksRequests(cs)).to.equal(true);
      } finally {
        instrumentation.disable();
        await stopDefault();
        await mp.shutdown();
      }
    });
  }

  // The process's Carbonscope is shared on globalThis: an older copy of the package (register
  // in the app, this instrumentation in a dependency) made it, without releaseRequests().
  it("disable() stops the tracking on an older copy's Carbonscope, as that copy's did", async () => {
    const mp = new MeterProvider();
    await instrumented(mp, {}, async (cs, instrumentation) => {
      const older = cs as { releaseRequests?: unknown };
      older.releaseRequests = undefined;
      try {
        expect(() => instrumentation.disable()).to.not.throw();
        expect(await tracksRequests(cs)).to.equal(false);
      } finally {
        delete older.releaseRequests;
      }
    });
    await mp.shutdown();
  });

  // `trackRequests: true` (register's option, in the config's type as every start option) began
  // the tracking at the start and counted as an ask of its own: enable() asked again, disable()
  // gave back one, and the tracking went on for no one.
  it('disable() stops the tracking its enable() started with trackRequests: true', async () => {
    const mp = new MeterProvider();
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      logger: memoryLogger().logger,
      trackRequests: true,
    });
    try {
      instrumentation.setMeterProvider(mp);
      await instrumentation.ready();
      const cs = await startDefault();
      expect(await tracksRequests(cs)).to.equal(true);
      instrumentation.disable();
      expect(await tracksRequests(cs)).to.equal(false);
    } finally {
      instrumentation.disable();
      await stopDefault();
      await mp.shutdown();
    }
  });

  // Its start tracks requests from create() on (a slow nvidia-smi's probe), no one's ask until
  // its own once started: a disable() before then left that tracking on for no one.
  it('disable() before its start ended leaves no tracking on', async () => {
    const mp = new MeterProvider();
    const instrumentation = new CarbonscopeInstrumentation({
      settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
      logger: memoryLogger().logger,
    });
    try {
      instrumentation.setMeterProvider(mp);
      instrumentation.disable();
      const cs = await startDefault();
      expect(await tracksRequests(cs)).to.equal(false);
    } finally {
      await stopDefault();
      await mp.shutdown();
    }
  });

  // An older copy's register (no releaseRequests, no tracking from its create()): the give-back
  // of the early tracking stopped register's own for all, and its requests went unmetered.
  for (const older of [false, true]) {
    const whose = older ? "an older copy's register's" : "register's";
    it(`disable() before its start ended leaves ${whose} tracking on`, async () => {
      const mp = new MeterProvider();
      // register's start: tracking from create() on (an older copy's: none), its own ask once
      // started.
      const registered = startDefault({
        settings: testConfig({ ENERGY_SOURCE: 'estimate', CARBON_INTENSITY: '300' }),
        logger: memoryLogger().logger,
        trackRequests: !older,
      }).then((cs) => {
        if (older) (cs as { releaseRequests?: unknown }).releaseRequests = undefined;
        cs.trackRequests();
        return cs;
      });
      const instrumentation = new CarbonscopeInstrumentation({ logger: memoryLogger().logger });
      try {
        instrumentation.setMeterProvider(mp);
        instrumentation.disable();
        const cs = await registered;
        const tracked = await tracksRequests(cs);
        delete (cs as { releaseRequests?: unknown }).releaseRequests;
        expect(tracked).to.equal(true);
      } finally {
        await stopDefault();
        await mp.shutdown();
      }
    });
  }

  it('disable() alone stops the tracking its enable() started', async () => {
    const mp = new MeterProvider();
    await instrumented(mp, {}, async (cs, instrumentation) => {
      expect(await tracksRequests(cs)).to.equal(true);
      instrumentation.disable();
      expect(await tracksRequests(cs)).to.equal(false);
    });
    await mp.shutdown();
  });
});
