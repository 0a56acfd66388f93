import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import {
  metricsOf,
  OTLP_DELTA,
  otlpReceiver,
  stringAttribute,
} from '#library-tests/helpers/otlp-receiver.js';
import { projectRoot } from '../../../src/paths.js';
import { tracingEnabled } from '../../../src/telemetry/sdk.js';
import { refusingCollector } from '../../helpers/collector.js';
import { inTelemetryChild, telemetryChildOutput } from '../../helpers/telemetry-child.js';

/**
 * The lines of the app's /metrics exposition, its telemetry started with `env`: the second
 * collection's, since the SDK records a collection's own duration only once it is over.
 */
function exposition(env: Record<string, string>): Promise<string[]> {
  return inTelemetryChild<string[]>(
    env,
    `await telemetry.metricsText();
     return (await telemetry.metricsText()).toString('utf8').split('\\n');`,
  );
}

/**
 * Child source that waits until the child wrote `text` to stdout or stderr (the SDK's diag lines
 * go there), or `ms` passed: the test then reads what was written.
 */
function untilWritten(text: string, ms: number): string {
  return `await new Promise((resolve) => {
     const timer = setTimeout(resolve, ${ms});
     for (const stream of [process.stdout, process.stderr]) {
       const write = stream.write.bind(stream);
       stream.write = (chunk, ...rest) => {
         if (String(chunk).includes(${JSON.stringify(text)})) {
           clearTimeout(timer);
           resolve();
         }
         return write(chunk, ...rest);
       };
     }
   });`;
}

describe("the app's telemetry, started with NodeSDK or its own meter provider", function () {
  this.timeout(40_000);

  // The metrics-only start must describe the service as NodeSDK did: its name, version and
  // instance, and OTEL_RESOURCE_ATTRIBUTES on top.
  for (const [label, tracing] of [
    ['tracing off (a meter provider of its own)', 'none'],
    ['tracing on (NodeSDK)', 'console'],
  ] as const) {
    it(`names the service and merges OTEL_RESOURCE_ATTRIBUTES, ${label}`, async () => {
      const lines = await exposition({
        OTEL_TRACES_EXPORTER: tracing,
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
      });
      const info = lines.find((l) => l.startsWith('target_info{')) ?? '';
      expect(info).to.include('service_name="checkout"');
      expect(info).to.match(/service_version="\d+\.\d+\.\d+"/);
      expect(info).to.include('service_instance_id=');
      expect(info).to.include('deployment_environment_name="staging"');
      expect(info).not.to.include('host_name');
    });
  }

  // The SDK's own attributes, as NodeSDK's default resource and carbonscope's register give
  // them: a backend tells the language and SDK by them (the service had none, either path).
  for (const tracing of ['none', 'console']) {
    it(`describes the SDK on the resource as the library does, OTEL_TRACES_EXPORTER=${tracing}`, async () => {
      const lines = await exposition({ OTEL_TRACES_EXPORTER: tracing });
      const info = lines.find((l) => l.startsWith('target_info{')) ?? '';
      expect(info).to.include('telemetry_sdk_language="nodejs"');
      expect(info).to.include('telemetry_sdk_name="opentelemetry"');
      expect(info).to.match(/telemetry_sdk_version="\d+\.\d+\.\d+"/);
      // Still the service's name, never the default resource's unknown_service:node.
      expect(info).to.include('service_name="carbonscope"');
    });
  }

  // A blank name is unset, as every other variable: "  " was the service's name, kept as it
  // was, where the SDK itself reads a blank one as unset.
  it('names the service carbonscope where OTEL_SERVICE_NAME is unset or blank', async () => {
    for (const name of [undefined, '  ']) {
      const lines = await exposition({
        OTEL_TRACES_EXPORTER: 'none',
        ...(name === undefined ? {} : { OTEL_SERVICE_NAME: name }),
      });
      const info = lines.find((l) => l.startsWith('target_info{')) ?? '';
      expect(info, JSON.stringify(name)).to.include('service_name="carbonscope"');
    }
  });

  for (const [label, tracing] of [
    ['tracing off', 'none'],
    ['tracing on', 'console'],
  ] as const) {
    it(`records the SDK's own metrics only when OTEL_NODE_EXPERIMENTAL_SDK_METRICS asks, ${label}`, async () => {
      const sdkTypes = async (asked: string) =>
        (
          await exposition({
            OTEL_TRACES_EXPORTER: tracing,
            OTEL_NODE_EXPERIMENTAL_SDK_METRICS: asked,
          })
        ).filter((l) => l.startsWith('# TYPE otel_sdk_'));
      expect(await sdkTypes('true')).to.have.length.greaterThan(0);
      expect(await sdkTypes('false')).to.deep.equal([]);
    });
  }

  for (const [label, tracing] of [
    ['tracing off', 'none'],
    ['tracing on', 'console'],
  ] as const) {
    it(`masks the OTLP secrets in the SDK's own lines (OTEL_LOG_LEVEL), ${label}`, async () => {
      // The collector refuses, naming the token it was sent in its status line.
      const { server: collector, port } = await refusingCollector();
      try {
        const { stdout, stderr } = await telemetryChildOutput(
          {
            OTEL_TRACES_EXPORTER: tracing,
            OTEL_LOG_LEVEL: 'info',
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://push:OTLP-PW-42@127.0.0.1:${port}`,
            OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=tok-HEADER-9f8e7d',
            // A push's answer needs the whole of its timeout on a loaded machine: at 200 ms every
            // push within the second the child used to wait could time out, and no line told
            // of the refusal.
            OTEL_METRIC_EXPORT_INTERVAL: '1000',
            OTEL_METRIC_EXPORT_TIMEOUT: '1000',
            OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
          },
          `telemetry.meter.createCounter('pushed').add(1);
           ${untilWritten('refused', 15_000)}
           return 0;`,
          '{ otlpMetricsEnabled: true }',
        );
        const output = `${stdout}\n${stderr}`;
        expect(output).to.include('metrics export failed');
        expect(output).to.include('refused [redacted]');
        for (const secret of ['OTLP-PW-42', 'tok-HEADER-9f8e7d']) {
          expect(output).not.to.include(secret);
        }
      } finally {
        collector.close();
      }
    });
  }

  // pino writes the service's log to stdout as JSON; the SDK's own lines (OTEL_LOG_LEVEL) went
  // to the console beside it: INFO and DEBUG as plain text on stdout, between the JSON lines
  // (19 in 10 s of a refused push at info), errors as text on stderr, no log pipeline's.
  for (const [label, tracing, before] of [
    ['tracing off', 'none', []],
    // NodeSDK's constructor installs the console's logger, which says so at DEBUG, before the
    // service can replace it: the one line left outside the log.
    ['tracing on', 'console', ['@opentelemetry/api: Registered a global for diag v1.9.1.']],
  ] as const) {
    it(`writes the SDK's own lines (OTEL_LOG_LEVEL) into the app's JSON log, ${label}`, async () => {
      const logger = pathToFileURL(join(projectRoot, 'dist', 'src', 'logger.js')).href;
      const { stdout, stderr } = await telemetryChildOutput(
        { OTEL_TRACES_EXPORTER: tracing, OTEL_LOG_LEVEL: 'all' },
        `const { createLogger } = await import(${JSON.stringify(logger)});
         const { diag } = await import('@opentelemetry/api');
         // Through process.stdout, as the child's result is: the lines keep their order.
         const destination = process.stdout;
         telemetry.warnTo(createLogger({ level: 'debug', destination, secrets: ['tok-HEADER-9f8e7d'] }));
         for (const level of ['error', 'warn', 'info', 'debug', 'verbose']) {
           diag[level]('probe %s refused tok-HEADER-9f8e7d', level);
         }
         return 0;`,
      );
      // The child's result comes last, unterminated.
      const lines = stdout.split('\n').slice(0, -1);
      expect(lines.filter((line) => !line.startsWith('{'))).to.deep.equal(before);
      const probes = lines
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string; component: string })
        .filter((line) => line.msg.startsWith('probe '));
      expect(probes.map(({ level, msg, component }) => [level, component, msg])).to.deep.equal([
        [50, 'otel-sdk', 'probe error refused [redacted]'],
        [40, 'otel-sdk', 'probe warn refused [redacted]'],
        [30, 'otel-sdk', 'probe info refused [redacted]'],
        [20, 'otel-sdk', 'probe debug refused [redacted]'],
        [20, 'otel-sdk', 'probe verbose refused [redacted]'],
      ]);
      expect(stderr).to.equal('');
    });
  }

  // With a log exporter, pino's lines are also sent as log records (the pino instrumentation):
  // the SDK's lines in the log were sent by the pipeline they report on. A failed export was a
  // line that was itself exported, and failed: one every ~8.5 s, for ever, with the app idle and
  // the collector down (5 in 50 s where there was 1), and at debug each export's own line.
  it("keeps the SDK's own lines out of the log when it exports the log (OTEL_LOGS_EXPORTER)", async () => {
    const { stdout, stderr } = await telemetryChildOutput(
      { OTEL_TRACES_EXPORTER: 'console', OTEL_LOGS_EXPORTER: 'console', OTEL_LOG_LEVEL: 'error' },
      `const { createRequire } = await import('node:module');
       // Required, not imported: the instrumentation patches require() without the ESM hook.
       const { pino } = createRequire(import.meta.url)('pino');
       const { diag } = await import('@opentelemetry/api');
       const logger = pino({ level: 'debug' });
       telemetry.warnTo(logger);
       logger.info('app line');
       diag.error('probe refused tok-HEADER-9f8e7d');
       return 0;`,
      "{ otlpMetricsEnabled: false, secrets: ['tok-HEADER-9f8e7d'] }",
    );
    // The app's own line is exported (pino is instrumented), the SDK's is not, nor logged there.
    expect(stdout).to.include("body: 'app line'");
    expect(stdout).not.to.include('probe');
    expect(stderr).to.equal('probe refused [redacted]\n');
  });

  // A gauge's callback that stops observing a source (the grid intensity's `annual-average`
  // once Electricity Maps answers) must drop its series: the SDK kept it, at its last value,
  // in /metrics and in every push, and the fallback alert never cleared.
  const probe = `let source = 'annual-average';
     telemetry.meter.createObservableGauge('probe.intensity')
       .addCallback((result) => result.observe(source === 'annual-average' ? 400 : 250, { source }));`;
  for (const [label, tracing] of [
    ['tracing off', 'none'],
    ['tracing on', 'console'],
  ] as const) {
    it(`serves only the sources a gauge observes now at /metrics, ${label}`, async () => {
      const scraped = await inTelemetryChild<string[][]>(
        { OTEL_TRACES_EXPORTER: tracing },
        `${probe}
         const lines = async () => (await telemetry.metricsText()).toString('utf8')
           .split('\\n').filter((l) => l.startsWith('probe_intensity'));
         const before = await lines();
         source = 'electricity-maps';
         return [before, await lines()];`,
      );
      expect(scraped).to.deep.equal([
        ['probe_intensity{source="annual-average"} 400'],
        ['probe_intensity{source="electricity-maps"} 250'],
      ]);
    });

    it(`pushes only the sources a gauge observes now over OTLP, ${label}`, async () => {
      const receiver = await otlpReceiver();
      try {
        await inTelemetryChild<number>(
          {
            OTEL_TRACES_EXPORTER: tracing,
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_METRIC_EXPORT_INTERVAL: '200',
          },
          `${probe}
           await new Promise((r) => setTimeout(r, 700));
           source = 'electricity-maps';
           await new Promise((r) => setTimeout(r, 700));
           return 0;`,
          '{ otlpMetricsEnabled: true }',
        );
        const sources = receiver.pushes.map(({ body }) =>
          body.resourceMetrics
            .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics))
            .filter((m) => m.name === 'probe.intensity')
            .flatMap((m) => m.gauge?.dataPoints ?? [])
            .map((p) => stringAttribute(p.attributes, 'source')),
        );
        expect(sources[0]).to.deep.equal(['annual-average']);
        expect(sources.at(-1)).to.deep.equal(['electricity-maps']);
        expect(receiver.failures).to.deep.equal([]);
      } finally {
        await receiver.close();
      }
    });
  }

  // Under OTLP's delta preference the counters were delta and carbonscope's own histograms
  // cumulative: a delta-only backend could not use them, or counted each push again.
  it('pushes its local histograms in the temporality OTLP is asked for (delta)', async () => {
    const receiver = await otlpReceiver();
    try {
      await inTelemetryChild<number>(
        {
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta',
          OTEL_METRIC_EXPORT_INTERVAL: '200',
        },
        `const h = telemetry.histograms.histogram({ name: 'probe.duration', kind: 'histogram',
           unit: 's', description: '', attributes: [], convention: 'carbonscope', buckets: [1] });
         const series = h.open({});
         for (const batch of [[0.5, 2], [3], [0.1, 0.2, 4]]) {
           for (const v of batch) h.record(series, v);
           await new Promise((r) => setTimeout(r, 500));
         }
         return 0;`,
        '{ otlpMetricsEnabled: true }',
      );
      const histograms = receiver.pushes.flatMap(({ body }) =>
        metricsOf(body).filter((m) => m.name === 'probe.duration'),
      );
      expect(histograms.map((m) => m.histogram?.aggregationTemporality)).to.deep.equal([
        OTLP_DELTA,
        OTLP_DELTA,
        OTLP_DELTA,
      ]);
      const points = histograms.flatMap((m) => m.histogram?.dataPoints ?? []);
      expect(points.map((p) => [p.count, p.bucketCounts])).to.deep.equal([
        [2, [1, 1]],
        [1, [0, 1]],
        [3, [2, 1]],
      ]);
      expect(receiver.failures).to.deep.equal([]);
    } finally {
      await receiver.close();
    }
  });

  // The service's histograms are the library's, with their own buckets: they were pushed
  // explicit without a word to the user who asked for exponential ones.
  it('says that its histograms stay explicit under an exponential default aggregation', async () => {
    const { stdout, stderr } = await telemetryChildOutput(
      {
        OTEL_TRACES_EXPORTER: 'none',
        // Nothing listens there; the test ends before the first push.
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_METRIC_EXPORT_INTERVAL: '60000',
        OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION:
          'base2_exponential_bucket_histogram',
      },
      'return 0;',
      '{ otlpMetricsEnabled: true }',
    );
    const said = `${stdout}\n${stderr}`
      .split('\n')
      .filter((line) => line.includes('OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION'));
    expect(said).to.have.length(1);
    expect(said[0]).to.include("carbonscope's histograms are pushed with explicit buckets");
  });

  // The exporters append v1/metrics and v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT as written:
  // after a query (a collector's token) every push and span went to the path before it, the
  // token ending in /v1/..., and the service said nothing (register's start does).
  it("says once for each signal that its path lands in the base endpoint's query, never the query", async () => {
    const appendedLines = async (env: Record<string, string>) => {
      const { stdout, stderr } = await telemetryChildOutput(
        // Nothing listens there; the test ends before the first push.
        { OTEL_METRIC_EXPORT_INTERVAL: '60000', ...env },
        'return 0;',
        '{ otlpMetricsEnabled: true }',
      );
      return `${stdout}\n${stderr}`.split('\n').filter((line) => line.includes('appends v1/'));
    };
    const endpoint = 'http://127.0.0.1:9/otlp?token=QUERY-SECRET-7';
    const said = await appendedLines({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
    expect(said).to.have.length(2);
    for (const signal of ['metrics', 'traces']) {
      const lines = said.filter((line) => line.includes(`appends v1/${signal} after its query`));
      expect(lines, signal).to.have.length(1);
      expect(lines[0]).to.include(`set OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`);
    }
    expect(said.join('\n')).not.to.include('QUERY-SECRET-7');
    expect(said.join('\n')).not.to.include('/otlp');
    // A plain endpoint, and each signal's own endpoint (used as given), say nothing.
    expect(
      await appendedLines({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/otlp' }),
    ).to.deep.equal([]);
    const given = await appendedLines({
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT:
        'http://127.0.0.1:9/otlp/v1/metrics?token=QUERY-SECRET-7',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/otlp/v1/traces?token=QUERY-SECRET-7',
    });
    expect(given).to.deep.equal([]);
  });

  // The SDK refuses an export timeout over the interval, and the timeout's default (30 s) is
  // over a usual short interval: the service exited 1 at start with OTEL_METRIC_EXPORT_INTERVAL=5000.
  for (const [label, tracing] of [
    ['tracing off', 'none'],
    ['tracing on', 'console'],
  ] as const) {
    it(`starts with an OTLP export interval under the default timeout, ${label}`, async () => {
      const started = await inTelemetryChild<boolean>(
        {
          OTEL_TRACES_EXPORTER: tracing,
          // Nothing listens there; the test ends before the first push.
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
          OTEL_METRIC_EXPORT_INTERVAL: '5000',
        },
        'return telemetry.otlpMetrics;',
        '{ otlpMetricsEnabled: true }',
      );
      expect(started).to.equal(true);
    });
  }

  // The timeouts the app's span exporters were built with, in its tracer provider's order (null
  // for one without an OTLP delegate: the console's), the OTLP one's as [periodic, last]. The
  // SDK's private fields: it has no public way to read an exporter's timeout.
  const spanExporterTimeouts = `const { trace } = await import('@opentelemetry/api');
     const provider = trace.getTracerProvider().getDelegate();
     const timeout = (e) => e?._delegate?._timeout ?? null;
     return provider._activeSpanProcessor._spanProcessors
       .map(({ _exporter: e }) => e?.periodic ? [timeout(e.periodic), timeout(e.last)] : timeout(e));`;

  for (const [label, env, timeouts] of [
    // 0, the spec's indefinite, as metrics read it: as long as the batch processor waits on
    // an export (OTEL_BSP_EXPORT_TIMEOUT, 30 s by default). NodeSDK read it as invalid: 10 s.
    // The last export's, at the stop, is the metrics' last push's 2 s, never over it.
    [
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=0',
      { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' },
      [[30_000, 2000]],
    ],
    [
      'OTEL_EXPORTER_OTLP_TIMEOUT=0 over http/json, a batch timeout of 5 s',
      {
        OTEL_EXPORTER_OTLP_TIMEOUT: '0',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_BSP_EXPORT_TIMEOUT: '5000',
      },
      [[5000, 2000]],
    ],
    [
      'a per-signal 0 over a general 2 s, with the console too',
      {
        OTEL_TRACES_EXPORTER: 'otlp,console',
        OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0',
      },
      [[30_000, 2000], null],
    ],
    ["none set: the exporter's 10 s", {}, [[10_000, 2000]]],
    [
      '1.5 s: the last export has no more',
      { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1500' },
      [[1500, 1500]],
    ],
  ] as const) {
    it(`gives the OTLP span exporter the timeout metrics would get: ${label}`, async () => {
      const got = await inTelemetryChild<Array<number[] | number | null>>(
        { OTEL_TRACES_EXPORTER: 'otlp', ...env },
        spanExporterTimeouts,
      );
      expect(got).to.deep.equal(timeouts);
    });
  }

  // Each span processor of the app's tracer provider: its class, its exporter's and, for a
  // batch one, the OTEL_BSP_* settings it was built with (the SDK's private fields). An empty
  // list where no tracer provider was registered.
  const spanProcessors = `const { trace } = await import('@opentelemetry/api');
     const provider = trace.getTracerProvider().getDelegate();
     return (provider._activeSpanProcessor?._spanProcessors ?? []).map((p) => [
       p.constructor.name, (p._exporter?.periodic ?? p._exporter)?.constructor.name,
       p._maxQueueSize, p._scheduledDelayMillis, p._exportTimeoutMillis, p._maxExportBatchSize,
     ]);`;

  it('builds the batch processor beside the console as NodeSDK builds it alone: OTEL_BSP_* of 0 or less are the defaults', async () => {
    const bsp = {
      OTEL_BSP_MAX_QUEUE_SIZE: '0',
      OTEL_BSP_SCHEDULE_DELAY: '-1',
      OTEL_BSP_EXPORT_TIMEOUT: '0',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0',
    };
    const defaults = ['BatchSpanProcessor', 'OTLPTraceExporter', 2048, 5000, 30_000, 512];
    // Alone NodeSDK builds it from the environment: it reads each as invalid and keeps its default.
    const alone = await inTelemetryChild<unknown[][]>(
      { OTEL_TRACES_EXPORTER: 'otlp', ...bsp },
      spanProcessors,
    );
    expect(alone).to.deep.equal([defaults]);
    const beside = await inTelemetryChild<unknown[][]>(
      { OTEL_TRACES_EXPORTER: 'otlp,console', ...bsp },
      spanProcessors,
    );
    expect(beside[0]).to.deep.equal(defaults);
    // Settings above 0 are taken, alone or beside.
    const set = { OTEL_BSP_MAX_QUEUE_SIZE: '100', OTEL_BSP_SCHEDULE_DELAY: '250' };
    for (const exporters of ['otlp', 'otlp,console']) {
      const [first] = await inTelemetryChild<unknown[][]>(
        { OTEL_TRACES_EXPORTER: exporters, ...set },
        spanProcessors,
      );
      expect(first, exporters).to.deep.equal([
        'BatchSpanProcessor',
        'OTLPTraceExporter',
        100,
        250,
        30_000,
        100,
      ]);
    }
  });

  it('reads OTEL_BSP_* in every form NodeSDK reads them, for the processors it builds itself', async () => {
    // Number() of the text (getNumberFromEnv): a sign, an exponent, hex, binary, spaces. The
    // processors built here (batchConfig: beside the console, and Zipkin's) must get what
    // NodeSDK's own gets alone, and that is the value each stands for.
    const bsp = {
      OTEL_BSP_MAX_QUEUE_SIZE: '+1e3',
      OTEL_BSP_SCHEDULE_DELAY: '0x100',
      OTEL_BSP_EXPORT_TIMEOUT: ' 4e3 ',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0b1000000',
    };
    const read = [1000, 256, 4000, 64];
    const alone = await inTelemetryChild<unknown[][]>(
      { OTEL_TRACES_EXPORTER: 'otlp', ...bsp },
      spanProcessors,
    );
    expect(alone).to.deep.equal([['BatchSpanProcessor', 'OTLPTraceExporter', ...read]]);
    const built = await inTelemetryChild<unknown[][]>(
      { OTEL_TRACES_EXPORTER: 'otlp,zipkin,console', ...bsp },
      spanProcessors,
    );
    expect(built.slice(0, 2)).to.deep.equal([
      ['BatchSpanProcessor', 'OTLPTraceExporter', ...read],
      ['BatchSpanProcessor', 'ZipkinExporter', ...read],
    ]);
  });

  it('builds no span exporter with tracing off where NodeSDK starts for a log exporter', async () => {
    // NodeSDK reads an unset OTEL_TRACES_EXPORTER as otlp: it built an OTLP span exporter to
    // localhost:4318 and a tracer provider, though tracing was off (no exporter, no endpoint).
    const got = await inTelemetryChild<{ tracing: boolean; processors: unknown[][] }>(
      { OTEL_LOGS_EXPORTER: 'console' },
      `const processors = await (async () => { ${spanProcessors} })();
       return { tracing: telemetry.tracing, processors };`,
    );
    expect(got).to.deep.equal({ tracing: false, processors: [] });
  });

  it('adds no log exporter with tracing on where OTEL_LOGS_EXPORTER is blank, as it is unset', async () => {
    // loadConfig reads a blank variable as unset, and NodeSDK reads a blank list as its default,
    // otlp: given no processors of its own, it added an OTLP log exporter to localhost:4318.
    const logExporters = `const { logs } = await import('@opentelemetry/api-logs');
       const state = logs.getLoggerProvider()._sharedState;
       return (state?.processors ?? []).map((p) => p._exporter?.constructor.name);`;
    const got: Record<string, unknown> = {};
    for (const exporters of [' ', 'console', 'none,']) {
      got[exporters] = await inTelemetryChild<string[]>(
        { OTEL_TRACES_EXPORTER: 'console', OTEL_LOGS_EXPORTER: exporters },
        logExporters,
      );
    }
    expect(got).to.deep.equal({ ' ': [], console: ['ConsoleLogRecordExporter'], 'none,': [] });
  });

  it('keeps tracing off where OTEL_TRACES_EXPORTER names none first, as NodeSDK reads it', async () => {
    // NodeSDK builds no exporter for `none,otlp`: the instrumentations recorded spans for nothing.
    for (const exporters of ['none,otlp', 'none, console', 'none,none']) {
      expect(tracingEnabled({ OTEL_TRACES_EXPORTER: exporters }), exporters).to.equal(false);
      expect(
        tracingEnabled({
          OTEL_TRACES_EXPORTER: exporters,
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        }),
        exporters,
      ).to.equal(false);
    }
    for (const exporters of ['otlp,none', 'console', 'otlp']) {
      expect(tracingEnabled({ OTEL_TRACES_EXPORTER: exporters }), exporters).to.equal(true);
    }
    const got = await inTelemetryChild<{ tracing: boolean; processors: unknown[][] }>(
      { OTEL_TRACES_EXPORTER: 'none,otlp' },
      `const processors = await (async () => { ${spanProcessors} })();
       return { tracing: telemetry.tracing, processors };`,
    );
    expect(got).to.deep.equal({ tracing: false, processors: [] });
  });
  it('under OTEL_SDK_DISABLED=true, /metrics is a 404 that names the variable, not a 500', async () => {
    // NodeSDK binds no reader when the SDK is disabled: each collection used to throw
    // "MetricReader is not bound", a 500 and an error stack per scrape.
    const answer = await inTelemetryChild<{ status: unknown; expose: unknown; message: string }>(
      { OTEL_SDK_DISABLED: 'true' },
      `try {
         await telemetry.metricsText();
         return { status: 'collected', expose: false, message: '' };
       } catch (err) {
         return { status: err.status, expose: err.expose, message: String(err.message) };
       }`,
    );
    expect(answer.status).to.equal(404);
    expect(answer.expose).to.equal(true);
    expect(answer.message).to.include('OTEL_SDK_DISABLED');
  });
});
