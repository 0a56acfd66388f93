import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNumberFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { exportTimeoutOverInterval, otlpExporterTimeout, periodicTimes } from 'carbonscope';
import { expect } from 'chai';
import { withEnv } from '#library-tests/helpers/with-env.js';
import {
  ConfigError,
  loadConfig,
  pushIntervalWarning,
  readDotenv,
  redactConfig,
  secretsOf,
} from '../../src/config.js';
import { envList } from '../../src/env-list.js';

describe('config', () => {
  // A folder named .env stopped the start with "EISDIR: illegal operation on a directory, read",
  // naming no file; a FIFO there would have hung it.
  it('names a .env it cannot read as a file, and reads none where there is none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    try {
      expect(readDotenv(join(dir, '.env'))).to.deep.equal({});
      expect(() => readDotenv(dir)).to.throw(/^cannot read .*dotenv-[^:]*: not a regular file$/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(8001);
    expect(c.grid.zone).to.equal('DE');
    expect(c.grid.baseUrl).to.equal('https://api.electricitymaps.com/v3');
    expect(c.energy.pue).to.equal(1);
    expect(c.energy.source).to.equal('auto');
    expect(c.energy.sampleIntervalMs).to.equal(1000);
    expect(c.energy.powercapRoot).to.equal('/sys/class/powercap');
    expect(c.logLevel).to.equal('info');
    expect(c.otel.otlpMetricsEnabled).to.equal(false);
    expect(c.otel.koaMiddlewareSpans).to.equal(false);
  });

  for (const [variable, value] of [
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '0x1F41'],
    ['PORT', '1e3'],
    ['PORT', '8001.0'],
    ['PORT', '+8001'],
    ['GRID_TIMEOUT_MS', '0b1010'],
    ['GRID_STALE_MAX_AGE_SECONDS', '3h'],
    // 0 would refuse every other zone for good: no Retry-After could say when to come back.
    ['GRID_OTHER_ZONE_LOOKUPS_PER_HOUR', '0'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'ftp://c/v1/metrics'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'not a url'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/xml'],
    ['OTEL_METRIC_EXPORT_INTERVAL', '5s'],
    ['OTEL_METRIC_EXPORT_INTERVAL', '0'],
    // A push every millisecond kept a core busy (96 % CPU here) without a word.
    ['OTEL_METRIC_EXPORT_INTERVAL', '1'],
    ['OTEL_METRIC_EXPORT_TIMEOUT', '-1'],
    // Read for the exporter's timeout, cut to the reader's: a malformed one would make it NaN.
    ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '5s'],
    // Read for the span exporter's timeout likewise (NodeSDK warned only under OTEL_LOG_LEVEL).
    ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '5s'],
    ['OTEL_TRACES_EXPORTER', 'jaegr'],
    ['OTEL_LOGS_EXPORTER', 'loud'],
    ['PUE', '-1'],
    ['CARBON_ZONE', 'germany'],
    ['ENERGY_SOURCE', 'magic'],
    ['LOG_LEVEL', 'loud'],
    ['TRACE_KOA_MIDDLEWARE', 'yes'],
    ['TRACE_IGNORED_PATHS', 'healthz'],
    ['TRACE_IGNORED_PATHS', '/healthz?probe=1'],
    ['TRACE_IGNORED_PATHS', '/a b'],
    ['ELECTRICITY_MAPS_BASE_URL', 'not a url'],
    ['CARBON_INTENSITY', 'x'],
    ['CARBON_INTENSITY', '5001'],
    // A CPU of 0 W: every figure of the estimate's CPU would be nothing, without a word.
    ['ENERGY_CPU_TDP_WATTS', '0'],
    ['ENERGY_CPU_MAX_WATTS_PER_VCPU', '0'],
    // NodeSDK reads a switch it does not know as false, and a level as INFO, without a word:
    // OTEL_SDK_DISABLED=1 left the SDK on, OTEL_LOG_LEVEL=loud printed the SDK's info lines.
    // Read for the batch span processors the service builds: a malformed one was the default
    // in silence, and 1e308 ms a delay Node cut to 1 ms (a flush every millisecond).
    ['OTEL_BSP_SCHEDULE_DELAY', '1e308'],
    ['OTEL_BSP_SCHEDULE_DELAY', '5s'],
    ['OTEL_BSP_SCHEDULE_DELAY', '-1'],
    ['OTEL_BSP_EXPORT_TIMEOUT', '0'],
    ['OTEL_BSP_EXPORT_TIMEOUT', 'NaN'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '1.5'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '0'],
    ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '99999999999'],
    // none beside another exporter: NodeSDK reads metrics and logs as none, traces as otlp; the
    // service pushed metrics all the same.
    ['OTEL_METRICS_EXPORTER', 'none,otlp'],
    ['OTEL_TRACES_EXPORTER', 'console,none'],
    ['OTEL_LOGS_EXPORTER', 'none,otlp'],
    ['OTEL_SDK_DISABLED', '1'],
    ['OTEL_SDK_DISABLED', 'yes'],
    ['OTEL_LOG_LEVEL', 'loud'],
    // The tracer provider reads a sampler it does not know (any other case, spaces around it)
    // as parentbased_always_on, and a ratio it cannot read (10%, 1.5) as 1: a service asked to
    // keep one trace in ten kept every one, with a diag line only OTEL_LOG_LEVEL shows.
    ['OTEL_TRACES_SAMPLER', 'bogus'],
    ['OTEL_TRACES_SAMPLER', 'TraceIdRatio'],
    ['OTEL_TRACES_SAMPLER', ' traceidratio '],
    ['OTEL_TRACES_SAMPLER_ARG', '10%'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_TRACES_SAMPLER_ARG', '-0.1'],
    // A prefix the redirect could not name as it is: no leading slash, a trailing one, an
    // authority (`//evil.example/dashboard` is another site's), a query, a space.
    ['PROXY_PREFIX', 'carbonscope'],
    ['PROXY_PREFIX', '/carbonscope/'],
    ['PROXY_PREFIX', '/'],
    ['PROXY_PREFIX', '//evil.example'],
    ['PROXY_PREFIX', '/a?b'],
    ['PROXY_PREFIX', '/a b'],
    // The tracer provider took a span limit it could not read as its default, and a negative
    // one as given: OTEL_ATTRIBUTE_COUNT_LIMIT=-5 dropped every attribute of every span. A
    // length limit of 0 or less it reads as none, warning at every attribute it is given.
    ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '-5'],
    ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '0'],
    ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', '0'],
    ['OTEL_ATTRIBUTE_COUNT_LIMIT', '-5'],
    ['OTEL_ATTRIBUTE_COUNT_LIMIT', 'abc'],
    ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '1.5'],
    ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', '-1'],
    ['OTEL_SPAN_EVENT_COUNT_LIMIT', 'many'],
    ['OTEL_SPAN_LINK_COUNT_LIMIT', '-1'],
    ['OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', 'x'],
    // What Number() reads (getNumberFromEnv) and the tracer provider misreads: a fraction, a
    // negative, NaN (`-0x10`, `1_000`) its default.
    ['OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT', '1e-3'],
    ['OTEL_SPAN_LINK_COUNT_LIMIT', '-Infinity'],
    ['OTEL_ATTRIBUTE_COUNT_LIMIT', '-0x10'],
    ['OTEL_ATTRIBUTE_COUNT_LIMIT', '1_000'],
    ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', '-0'],
    // No limit is no delay: setTimeout takes Infinity as 1 ms.
    ['OTEL_BSP_SCHEDULE_DELAY', 'Infinity'],
    ['OTEL_BSP_MAX_QUEUE_SIZE', '2e-3'],
    ['OTEL_TRACES_SAMPLER_ARG', 'Infinity'],
    ['OTEL_TRACES_SAMPLER_ARG', '0x2'],
    ['OTEL_TRACES_SAMPLER_ARG', '0,5'],
    // NodeSDK skips a propagator it does not know, and with none left registers none: a
    // misspelt tracecontext dropped every incoming traceparent, said only under OTEL_LOG_LEVEL.
    ['OTEL_PROPAGATORS', 'tracecontex'],
    ['OTEL_PROPAGATORS', 'tracecontext,none'],
    // A list of empty items alone: NodeSDK reads it as no propagator at all, as otlp for an
    // exporter.
    ['OTEL_PROPAGATORS', ','],
    ['OTEL_PROPAGATORS', ' , ,'],
    ['OTEL_TRACES_EXPORTER', ',,'],
  ] as const) {
    it(`rejects ${variable}=${value} naming the variable`, () => {
      expect(() => loadConfig({ [variable]: value }))
        .to.throw(ConfigError)
        .with.property('variable', variable);
    });
  }

  // "-1: expected a whole number in decimal digits" read wrong (-1 is one) and named no range,
  // "Invalid URL" no scheme: each refusal now says what the setting takes.
  for (const [env, message] of [
    [{ PORT: '-1' }, 'PORT: expected a whole number in decimal digits, from 0 to 65535 (got "-1")'],
    [{ PORT: '70000' }, 'PORT: expected a whole number in decimal digits, from 0 to 65535'],
    [{ BODY_LIMIT_KB: '0' }, 'BODY_LIMIT_KB: expected a whole number in decimal digits, from 1 to'],
    [{ PUE: '0' }, 'PUE: expected a decimal number, from 1 to 5 (got "0")'],
    [{ PUE: 'NaN' }, 'PUE: expected a decimal number, from 1 to 5 (got "NaN")'],
    // Past a double's range the digits parse to Infinity, which zod's number refused in its own
    // words ("expected number, received Infinity"), naming no range.
    [{ PUE: '1e400' }, 'PUE: expected a decimal number, from 1 to 5 (got "1e400")'],
    [{ CARBON_INTENSITY: '1e400' }, 'CARBON_INTENSITY: expected a decimal number, from 0 to 5000'],
    [
      { ENERGY_CPU_TDP_WATTS: '2e308', ENERGY_CPU_MODEL: 'tdp' },
      'expected a decimal number, over 0',
    ],
    [{ CARBON_INTENSITY: '-1' }, 'CARBON_INTENSITY: expected a decimal number, from 0 to 5000'],
    [{ ENERGY_CPU_TDP_WATTS: '-1', ENERGY_CPU_MODEL: 'tdp' }, 'expected a decimal number, over 0'],
    [{ LLM_BASE_URL: 'example.com/v1' }, 'LLM_BASE_URL: expected an http(s) URL'],
    // A choice refused in zod's words (`Invalid option: expected one of "auto"|"rapl"|...`) said
    // nothing of the case that was the whole slip.
    [
      { ENERGY_SOURCE: 'RAPL' },
      'ENERGY_SOURCE: expected one of auto, rapl, powermetrics, nvidia-smi, kepler, scaphandre, estimate; did you mean rapl? (got "RAPL")',
    ],
    [{ GRID_SHARE: 'procss' }, 'GRID_SHARE: expected one of host, process; did you mean process?'],
    [
      { TRACE_KOA_MIDDLEWARE: 'TRUE' },
      'TRACE_KOA_MIDDLEWARE: expected one of true, false; did you',
    ],
    [
      { EMBODIED_PROFILE: 'desktop' },
      'EMBODIED_PROFILE: expected one of server, laptop, cloud-vcpu (got',
    ],
    [{ ELECTRICITY_MAPS_BASE_URL: 'ftp://x' }, 'expected an http(s) URL'],
    [
      { OTEL_TRACES_SAMPLER: 'TraceIdRatio' },
      'OTEL_TRACES_SAMPLER: expected one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio; did you mean traceidratio? (got "TraceIdRatio")',
    ],
    [
      { OTEL_TRACES_SAMPLER: 'traceidratio ' },
      'OTEL_TRACES_SAMPLER: write it without spaces around it, as the SDK reads it as written (got "traceidratio ")',
    ],
    // The Zipkin exporter threw a bare "Invalid URL" at start ("telemetry could not start"),
    // naming no variable, and took an ftp:// one, to fail every export.
    [
      { OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'not a url' },
      'OTEL_EXPORTER_ZIPKIN_ENDPOINT: expected an http(s) URL',
    ],
    [
      { OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'ftp://x:1/' },
      'OTEL_EXPORTER_ZIPKIN_ENDPOINT: expected an http(s) URL',
    ],
    [
      { OTEL_PROPAGATORS: 'tracecontext,W3C' },
      'OTEL_PROPAGATORS: expected none alone, or a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger (got "tracecontext,W3C")',
    ],
    [
      { OTEL_TRACES_SAMPLER_ARG: '10%' },
      'OTEL_TRACES_SAMPLER_ARG: expected a decimal number, from 0 to 1 (got "10%")',
    ],
  ] as const) {
    it(`says what ${Object.keys(env)[0]} takes when it refuses ${Object.values(env)[0]}`, () => {
      expect(() => loadConfig(env))
        .to.throw(ConfigError)
        .with.property('message')
        .that.includes(message);
    });
  }

  // A value pasted whole (a file's contents, say) was echoed whole: a 100 kB line, which a pipe
  // cut at 64 KiB with the process's exit, the line's end lost.
  it('quotes a long refused value cut short, in one line', () => {
    for (const [variable, value] of [
      ['PUE', 'x'.repeat(100_000)],
      ['PORT', '9'.repeat(100_000)],
      ['OTEL_LOG_LEVEL', 'y'.repeat(100_000)],
      ['OTEL_SDK_DISABLED', 'z'.repeat(100_000)],
    ]) {
      expect(() => loadConfig({ [variable]: value }))
        .to.throw(ConfigError)
        .with.property('message')
        .that.matches(new RegExp(`^${variable}: [^\\n]{10,250}…"\\)$`));
    }
  });

  // Past 2^53 the check that the number is safe came first, naming 9007199254740991 as the limit.
  it("names the setting's own limit for a whole number too long to hold exactly", () => {
    expect(() => loadConfig({ BODY_LIMIT_KB: '99999999999999999999' }))
      .to.throw(ConfigError, /^BODY_LIMIT_KB: .*10240/)
      .with.property('variable', 'BODY_LIMIT_KB');
  });

  for (const zone of ['UK', 'EU', 'XX', 'DE-X1', `DE-${'A'.repeat(40)}`]) {
    it(`stops at a well-formed zone no data knows: CARBON_ZONE=${zone.slice(0, 12)}`, () => {
      expect(() => loadConfig({ CARBON_ZONE: zone }))
        .to.throw(ConfigError, /CARBON_ZONE/)
        .with.property('message')
        .that.matches(/unknown zone|at most 32/);
    });
  }

  it('takes any well-formed zone when CARBON_INTENSITY fixes the intensity (the zone is a label)', () => {
    expect(loadConfig({ CARBON_ZONE: 'XX', CARBON_INTENSITY: '100' }).grid.zone).to.equal('XX');
    expect(loadConfig({ CARBON_ZONE: 'US-CAL-CISO' }).grid.zone).to.equal('US-CAL-CISO');
    expect(loadConfig({ CARBON_ZONE: 'RU' }).grid.zone).to.equal('RU');
  });

  it('takes OTEL_SDK_DISABLED and OTEL_LOG_LEVEL in any case, as the SDK reads them', () => {
    for (const env of [
      { OTEL_SDK_DISABLED: 'TRUE' },
      { OTEL_SDK_DISABLED: ' false ' },
      { OTEL_LOG_LEVEL: 'debug' },
      { OTEL_LOG_LEVEL: 'NONE' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).not.to.throw();
    }
  });

  it('names what OTEL_SDK_DISABLED and OTEL_LOG_LEVEL take when it refuses one', () => {
    expect(() => loadConfig({ OTEL_SDK_DISABLED: '1' })).to.throw(
      ConfigError,
      /^OTEL_SDK_DISABLED: expected true or false \(got "1"\)$/,
    );
    expect(() => loadConfig({ OTEL_LOG_LEVEL: 'loud' })).to.throw(
      ConfigError,
      /^OTEL_LOG_LEVEL: expected ALL, VERBOSE, DEBUG, INFO, WARN, ERROR or NONE \(got "loud"\)$/,
    );
  });

  it('accepts the OTEL_* values the service reads in their documented forms', () => {
    const c = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
      OTEL_METRIC_EXPORT_TIMEOUT: '3000',
      OTEL_TRACES_EXPORTER: 'otlp,console',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_SERVICE_NAME: 'my-service',
      OTEL_BSP_SCHEDULE_DELAY: '250',
      OTEL_BSP_EXPORT_TIMEOUT: '5000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '100',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
      OTEL_PROPAGATORS: 'tracecontext, baggage',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4096',
      OTEL_SPAN_EVENT_COUNT_LIMIT: '0',
      OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411/api/v2/spans',
    });
    expect(c.otel.otlpMetricsEnabled).to.equal(true);
    expect(loadConfig({ PORT: '08001' }).port).to.equal(8001);
  });

  // The SDK reads each of these, and the service refused it at start. NodeSDK reads its lists
  // with @opentelemetry/core's getStringListFromEnv (each item trimmed, an empty one dropped),
  // and its numbers with getNumberFromEnv (Number() of the text: a sign, an exponent, hex,
  // binary, a trailing dot, Infinity; OTEL_BSP_* and OTEL_METRIC_EXPORT_* through sdk-node's
  // getNonNegativeNumberFromEnv, the sampler's ratio and the span limits as given). Each is
  // called here on the value, so that the reading pinned is the installed SDK's, not a comment.
  describe('the OTel SDK variables in any form the SDK reads them', () => {
    /** What @opentelemetry/core's `read` makes of `value` set as `variable`. */
    const sdkRead = <T>(variable: string, value: string, read: (name: string) => T): T =>
      withEnv({ [variable]: value }, () => read(variable));

    for (const [variable, value, items] of [
      ['OTEL_PROPAGATORS', 'tracecontext,baggage,', ['tracecontext', 'baggage']],
      ['OTEL_PROPAGATORS', ', tracecontext,, baggage ,', ['tracecontext', 'baggage']],
      ['OTEL_PROPAGATORS', 'none,', ['none']],
      ['OTEL_TRACES_EXPORTER', 'otlp,', ['otlp']],
      ['OTEL_METRICS_EXPORTER', 'prometheus,,otlp', ['prometheus', 'otlp']],
      ['OTEL_LOGS_EXPORTER', ',none', ['none']],
    ] as const) {
      it(`takes ${variable}=${value} as the list ${items.join(', ')}, as the SDK reads it`, () => {
        expect(sdkRead(variable, value, getStringListFromEnv)).to.deep.equal(items);
        expect(envList(value)).to.deep.equal(items);
        expect(() => loadConfig({ [variable]: value })).not.to.throw();
      });
    }

    // The service's own reading, where it reads the variable itself (the push interval, the
    // OTLP exporters' timeouts); the others the SDK reads (OTEL_BSP_*: start.test's end to end).
    const ownReading: Record<string, (env: Record<string, string>) => number | undefined> = {
      OTEL_METRIC_EXPORT_INTERVAL: (env) => loadConfig(env).otel.exportIntervalMs,
      OTEL_METRIC_EXPORT_TIMEOUT: (env) =>
        periodicTimes({ OTEL_METRIC_EXPORT_INTERVAL: '600000', ...env }).exportTimeoutMillis,
      OTEL_EXPORTER_OTLP_TIMEOUT: (env) => otlpExporterTimeout(env, 600_000),
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: (env) => otlpExporterTimeout(env, 600_000),
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: (env) => otlpExporterTimeout(env, 600_000, 'TRACES'),
    };
    for (const [variable, value, read] of [
      ['OTEL_TRACES_SAMPLER_ARG', '+0.1', 0.1],
      ['OTEL_TRACES_SAMPLER_ARG', '.5', 0.5],
      ['OTEL_TRACES_SAMPLER_ARG', '1.', 1],
      ['OTEL_TRACES_SAMPLER_ARG', '25e-2', 0.25],
      ['OTEL_TRACES_SAMPLER_ARG', '0x1', 1],
      ['OTEL_TRACES_SAMPLER_ARG', '-0', -0],
      ['OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT', '1e3', 1000],
      ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '+64', 64],
      ['OTEL_SPAN_EVENT_COUNT_LIMIT', '0x80', 128],
      ['OTEL_SPAN_LINK_COUNT_LIMIT', '0b11', 3],
      ['OTEL_ATTRIBUTE_COUNT_LIMIT', '128.0', 128],
      ['OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', '-0', -0],
      // No limit, the SDK's default for a length.
      ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'Infinity', Number.POSITIVE_INFINITY],
      ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '1e400', Number.POSITIVE_INFINITY],
      ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', '4.096e3', 4096],
      ['OTEL_BSP_SCHEDULE_DELAY', '1e3', 1000],
      ['OTEL_BSP_MAX_QUEUE_SIZE', '+2048', 2048],
      ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', '0x200', 512],
      ['OTEL_BSP_EXPORT_TIMEOUT', ' 3e4 ', 30_000],
      // Refused as not decimal digits before stop 76, though NodeSDK and the exporters read them.
      ['OTEL_METRIC_EXPORT_INTERVAL', '1e3', 1000],
      ['OTEL_METRIC_EXPORT_INTERVAL', '0x3e8', 1000],
      ['OTEL_METRIC_EXPORT_INTERVAL', '+15000', 15_000],
      ['OTEL_METRIC_EXPORT_INTERVAL', '15000.0', 15_000],
      ['OTEL_METRIC_EXPORT_TIMEOUT', '.5e4', 5000],
      ['OTEL_EXPORTER_OTLP_TIMEOUT', '2e3', 2000],
      ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '0x7d0', 2000],
      ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '+2000', 2000],
    ] as const) {
      it(`takes ${variable}=${value} as the SDK reads it: ${read}`, () => {
        expect(sdkRead(variable, value, getNumberFromEnv)).to.equal(read);
        expect(() => loadConfig({ [variable]: value })).not.to.throw();
        const own = ownReading[variable];
        if (own) expect(own({ [variable]: value })).to.equal(read);
      });
    }

    // The tracer provider's own reading of a few of them, so that an SDK that read them
    // otherwise (strictly, say) fails here rather than let the service pass what it ignores.
    /** The attributes a span of a tracer provider started under `env` keeps, of 200 set. */
    const keptAttributes = (env: Record<string, string>) =>
      withEnv(env, () => {
        const span = new BasicTracerProvider().getTracer('t').startSpan('s');
        for (let i = 0; i < 200; i++) span.setAttribute(`a${i}`, i);
        return Object.keys((span as unknown as ReadableSpan).attributes).length;
      });
    /** Whether a root span is recorded under the ratio sampler with `ratio`. */
    const sampled = (ratio: string) =>
      withEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio }, () =>
        new BasicTracerProvider().getTracer('t').startSpan('s').isRecording(),
      );

    it('reads them as the tracer provider does', () => {
      for (const [value, kept] of [
        ['+64', 64],
        ['0x2', 2],
        ['2e0', 2],
        ['3.', 3],
        ['Infinity', 200],
      ] as const) {
        expect(keptAttributes({ OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: value }), value).to.equal(kept);
        expect(() => loadConfig({ OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: value }), value).not.to.throw();
      }
      // 0 samples nothing, where a ratio the sampler could not read would be 1, every span.
      for (const ratio of ['+0', '-0', '0e5', '0x0']) {
        expect(sampled(ratio), ratio).to.equal(false);
        expect(() => loadConfig({ OTEL_TRACES_SAMPLER_ARG: ratio }), ratio).not.to.throw();
      }
      expect(sampled('0x1')).to.equal(true);
    });

    // A value the SDK would misread is refused in one line that says how the SDK reads it:
    // a fraction as it is (1.5 ms, likely meant as seconds; a count of 1.5 kept 2 spans),
    // 0 or less and NaN as its default (NodeSDK warns only under OTEL_LOG_LEVEL), Infinity.
    for (const [variable, value, reason] of [
      [
        'OTEL_SPAN_LINK_COUNT_LIMIT',
        '1.5',
        'expected a whole number, from 0 to 1000000000, or Infinity for no limit; the SDK reads it as 1.5',
      ],
      [
        'OTEL_BSP_MAX_QUEUE_SIZE',
        'Infinity',
        'expected a whole number, from 1 to 1000000; the SDK reads it as Infinity',
      ],
      [
        'OTEL_BSP_SCHEDULE_DELAY',
        '1.5',
        'expected a whole number, from 1 to 86400000; the SDK reads it as 1.5',
      ],
      [
        'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
        '-1',
        'expected a whole number, from 1 to 1000000; the SDK ignores it for its default',
      ],
      [
        'OTEL_BSP_EXPORT_TIMEOUT',
        '0',
        'expected a whole number, from 1 to 600000; the SDK ignores it for its default',
      ],
      [
        'OTEL_METRIC_EXPORT_INTERVAL',
        '1000.5',
        'expected a whole number, from 100 to 86400000; the SDK reads it as 1000.5',
      ],
      [
        'OTEL_METRIC_EXPORT_INTERVAL',
        '1_000',
        'expected a whole number, from 100 to 86400000; the SDK ignores it for its default',
      ],
      [
        'OTEL_EXPORTER_OTLP_TIMEOUT',
        'Infinity',
        'expected a whole number, from 0 to 600000; the SDK ignores it for its default',
      ],
      ['OTEL_TRACES_SAMPLER_ARG', '+1.5', 'expected a decimal number, from 0 to 1'],
    ] as const) {
      it(`refuses ${variable}=${value}, saying how the SDK reads it`, () => {
        expect(() => loadConfig({ [variable]: value }))
          .to.throw(ConfigError)
          .with.property('message', `${variable}: ${reason} (got "${value}")`);
      });
    }

    it('reads a refused fraction, Infinity and 1_000 as the errors say the SDK does', () => {
      expect(sdkRead('OTEL_BSP_SCHEDULE_DELAY', '1.5', getNumberFromEnv)).to.equal(1.5);
      expect(sdkRead('OTEL_BSP_MAX_QUEUE_SIZE', 'Infinity', getNumberFromEnv)).to.equal(
        Number.POSITIVE_INFINITY,
      );
      expect(sdkRead('OTEL_METRIC_EXPORT_INTERVAL', '1_000', getNumberFromEnv)).to.equal(undefined);
    });
  });

  // The SDK ignored each of these without a word: no attributes, no header, no compression.
  describe('the OTel SDK variables it would ignore when malformed', () => {
    const refused = (env: Record<string, string>, variable: string, message: RegExp) =>
      expect(() => loadConfig(env), JSON.stringify(env))
        .to.throw(ConfigError, message)
        .with.property('variable', variable);

    for (const variable of [
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_METRICS_HEADERS',
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    ]) {
      it(`refuses a malformed ${variable}, naming the item and key, never the value`, () => {
        for (const [value, message] of [
          // Without =, the whole item may be the token: only its position is named.
          ['Bearer s3cretTOKEN', /: item 1 has no "=" \(expected key=value\)$/],
          ['x-tenant=1,authorization', /: item 2 has no "="/],
          ['x-tenant=1,=s3cretTOKEN', /: item 2 has an empty key$/],
          ['authorization=', /: item 1 \(authorization\) has an empty value$/],
          ['authorization=Bearer%ZZs3cretTOKEN', /: item 1 \(authorization\).*percent-encoding/],
          ['authorization=Bearer s3cretTOKEN;x', /: item 1 \(authorization\).*%3B/],
          ['authorization=Bearer%0D%0As3cretTOKEN', /: item 1 \(authorization\).*control/],
          ['bad key=s3cretTOKEN', /: item 1 is not an HTTP header name$/],
          // A comma in a credential splits it: what follows reads as an item, its key a piece of
          // the credential, so a key that is no header name is not shown.
          ['authorization=Basic x,s3cret TOKEN=y', /: item 2 is not an HTTP header name$/],
          ['authorization=Basic x,s3cret%ZZ=y', /: item 2: the key is not valid percent-/],
        ] as const) {
          refused({ [variable]: value }, variable, message);
          expect(() => loadConfig({ [variable]: value }))
            .to.throw(ConfigError)
            .with.property('message')
            .that.does.not.contain('s3cret');
        }
      });
    }

    it('takes headers as the spec writes them, a base64 = and spaces in a value included', () => {
      expect(() =>
        loadConfig({
          OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic dXNlcjpwYXNz==, x-tenant=1,',
          OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=a%2Cb%3Dc',
        }),
      ).not.to.throw();
    });

    // The exporters left out a file they could not read, and every https push then failed on
    // its handshake, no variable named.
    it('refuses an OTLP TLS file it cannot read, for metrics or for traces', () => {
      for (const variable of [
        'OTEL_EXPORTER_OTLP_CERTIFICATE',
        'OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY',
        'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE',
      ]) {
        refused({ [variable]: '/nonexistent/ca.pem' }, variable, /cannot read .*ENOENT/);
      }
    });

    it('refuses a malformed OTEL_RESOURCE_ATTRIBUTES, which the SDK dropped whole', () => {
      const variable = 'OTEL_RESOURCE_ATTRIBUTES';
      refused({ [variable]: 'deployment.environment' }, variable, /: item 1 has no "="/);
      refused({ [variable]: 'team=a,url=x=y' }, variable, /: item 2 \(url\).*%3D/);
      refused({ [variable]: '=prod' }, variable, /: item 1 has an empty key$/);
      refused({ [variable]: 'team=%E0%A4' }, variable, /: item 1 \(team\).*percent-encoding/);
      refused({ [variable]: `team=${'x'.repeat(256)}` }, variable, /: item 1 \(team\).*255/);
      expect(() =>
        loadConfig({ [variable]: 'deployment.environment=prod, team=a%2Cb,empty=' }),
      ).not.to.throw();
    });

    for (const variable of [
      'OTEL_EXPORTER_OTLP_COMPRESSION',
      'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION',
      'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION',
    ]) {
      it(`takes gzip or none for ${variable}, and refuses another`, () => {
        refused({ [variable]: 'gz' }, variable, /expected gzip or none/);
        refused({ [variable]: 'br' }, variable, /expected gzip or none/);
        expect(() => loadConfig({ [variable]: 'gzip' })).not.to.throw();
        expect(() => loadConfig({ [variable]: 'none' })).not.to.throw();
      });
    }
  });

  it('refuses an OTLP export timeout set over the export interval, naming both', () => {
    expect(() =>
      loadConfig({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '10000' }),
    )
      .to.throw(ConfigError, /OTEL_METRIC_EXPORT_INTERVAL \(5000\)/)
      .with.property('variable', 'OTEL_METRIC_EXPORT_TIMEOUT');
    // The timeout's default is not the user's doing: the interval bounds it instead.
    expect(() => loadConfig({ OTEL_METRIC_EXPORT_INTERVAL: '5000' })).not.to.throw();
  });

  it('says the export timeout over the interval as read, with its text where written otherwise', () => {
    // NodeSDK reads 0x927c0 as 600000: the message quoted the text alone, to be converted.
    expect(() => loadConfig({ OTEL_METRIC_EXPORT_TIMEOUT: '0x927c0' })).to.throw(
      ConfigError,
      /^OTEL_METRIC_EXPORT_TIMEOUT: 600000 ms \(0x927c0\) is over OTEL_METRIC_EXPORT_INTERVAL \(60000, its default\):/,
    );
    expect(() =>
      loadConfig({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: ' 6e3 ' }),
    ).to.throw(ConfigError, /^OTEL_METRIC_EXPORT_TIMEOUT: 6000 ms \(6e3\) is over/);
    // Written as read: no second form.
    expect(() =>
      loadConfig({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: ' 6000 ' }),
    ).to.throw(
      ConfigError,
      /^OTEL_METRIC_EXPORT_TIMEOUT: 6000 ms is over OTEL_METRIC_EXPORT_INTERVAL \(5000\):/,
    );
  });

  // The service kept its own copy of the rule and its words: the library's is register's too.
  it("refuses the export timeout over the interval by register's rule, in its words", () => {
    for (const env of [
      { OTEL_METRIC_EXPORT_TIMEOUT: '90000' },
      { OTEL_METRIC_EXPORT_INTERVAL: '3e3', OTEL_METRIC_EXPORT_TIMEOUT: '0x1388' },
    ]) {
      const refusal = exportTimeoutOverInterval(env, 'stops');
      expect(refusal, JSON.stringify(env)).to.be.instanceOf(ConfigError);
      expect(() => loadConfig(env)).to.throw(ConfigError, refusal?.message);
    }
  });

  it("takes the OTel spec's 0 timeouts (indefinite), as register does: the service started not", () => {
    for (const variable of [
      'OTEL_EXPORTER_OTLP_TIMEOUT',
      'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT',
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
      'OTEL_METRIC_EXPORT_TIMEOUT',
    ]) {
      expect(() => loadConfig({ [variable]: '0' }), variable).not.to.throw();
      // Indefinite is no timeout over the interval: the interval bounds it, as its default.
      expect(() =>
        loadConfig({ OTEL_METRIC_EXPORT_INTERVAL: '5000', [variable]: '0' }),
      ).not.to.throw();
    }
  });

  // The service refused these itself with a copy of the library's rule (range, 0's reading):
  // now the library's timeoutSetting, the rule its otlpExporterTimeout reads them by at start.
  it("reads the OTLP exporters' timeouts by the rule its exporters are given them by", () => {
    const signals = [
      ['OTEL_EXPORTER_OTLP_TIMEOUT', 'METRICS'],
      ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', 'METRICS'],
      ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'TRACES'],
    ] as const;
    for (const [variable, signal] of signals) {
      const refusal = (read: () => unknown) => {
        try {
          read();
        } catch (err) {
          return (err as Error).message;
        }
        return 'taken';
      };
      for (const value of ['0', '0x927c0', '600001', '-1', '1.5', 'Infinity', 'abc']) {
        const env = { [variable]: value };
        expect(
          refusal(() => loadConfig(env)),
          `${variable}=${value}`,
        ).to.equal(refusal(() => otlpExporterTimeout(env, 600_000, signal)));
      }
    }
  });

  it('names the per-vCPU watts the user set, and the default it runs into', () => {
    // Only the maximum set, under the minimum's default 0.74 W: the message named the minimum.
    expect(() => loadConfig({ ENERGY_CPU_MAX_WATTS_PER_VCPU: '0.1' }))
      .to.throw(ConfigError, /0\.1 W is under ENERGY_CPU_MIN_WATTS_PER_VCPU \(0\.74, its default\)/)
      .with.property('variable', 'ENERGY_CPU_MAX_WATTS_PER_VCPU');
    expect(() => loadConfig({ ENERGY_CPU_MIN_WATTS_PER_VCPU: '5' }))
      .to.throw(ConfigError, /5 W is over ENERGY_CPU_MAX_WATTS_PER_VCPU \(3\.5, its default\)/)
      .with.property('variable', 'ENERGY_CPU_MIN_WATTS_PER_VCPU');
    expect(() =>
      loadConfig({ ENERGY_CPU_MIN_WATTS_PER_VCPU: '2', ENERGY_CPU_MAX_WATTS_PER_VCPU: '1' }),
    )
      .to.throw(ConfigError, /2 W is over ENERGY_CPU_MAX_WATTS_PER_VCPU \(1\)/)
      .with.property('variable', 'ENERGY_CPU_MIN_WATTS_PER_VCPU');
  });

  // Each row of the table names its model, so a shared .env with both started before: the figure
  // unread is said at start (selectSources), never refused.
  it("accepts a CPU model's watts where ENERGY_CPU_MODEL chose the other model", () => {
    expect(loadConfig({ ENERGY_CPU_TDP_WATTS: '65' }).energy.cpuModel).to.equal('linear');
    expect(
      loadConfig({ ENERGY_CPU_MODEL: 'tdp', ENERGY_CPU_MAX_WATTS_PER_VCPU: '4' }).energy.cpuModel,
    ).to.equal('tdp');
  });

  it('accepts the workshop spelling of the Electricity Maps key', () => {
    expect(loadConfig({ ELECTRICITY_MAP_API_KEY: 'k1' }).grid.apiKey).to.equal('k1');
    expect(
      loadConfig({ ELECTRICITY_MAP_API_KEY: 'same', ELECTRICITY_MAPS_API_KEY: 'same' }).grid.apiKey,
    ).to.equal('same');
  });

  // The new name won in silence: a key left in .env under the old one, or the other way round,
  // was never used, and nothing said which of the two keys the lookups sent.
  it('refuses both names of the Electricity Maps key set to different keys, showing neither', () => {
    expect(() =>
      loadConfig({ ELECTRICITY_MAP_API_KEY: 'old-s3cret', ELECTRICITY_MAPS_API_KEY: 'new-s3cret' }),
    )
      .to.throw(ConfigError, /^ELECTRICITY_MAP_API_KEY: .*ELECTRICITY_MAPS_API_KEY/)
      .with.property('message')
      .that.does.not.match(/s3cret/);
  });

  // Every lookup sends the key in a header, which cannot carry these: each call then failed as
  // a network error, and the service ran on annual averages with no word of why.
  it('refuses an Electricity Maps key that no header can carry, never showing it', () => {
    for (const key of ['ab\ncd-s3cret', 'ab\u0000cd-s3cret', 'ab cd-s3cret', 'abc€d-s3cret']) {
      expect(() => loadConfig({ ELECTRICITY_MAPS_API_KEY: key }), JSON.stringify(key))
        .to.throw(ConfigError, /ELECTRICITY_MAPS_API_KEY: .*visible ASCII/)
        .with.property('message')
        .that.does.not.contain('s3cret');
    }
    expect(loadConfig({ ELECTRICITY_MAPS_API_KEY: ' k-1_A.b~ \n' }).grid.apiKey).to.equal(
      'k-1_A.b~',
    );
  });

  // Taken as it was, such a key failed every /chat as "could not reach the LLM service": fetch
  // refuses the header before a byte is sent, and the log said `Connection error.`
  it('refuses an LLM key that no header can carry, never showing it', () => {
    for (const key of ['sk-\x1b[2Js3cret', 'sk-ab cd-s3cret', 'sk-ab\ncd-s3cret', 'sk-€-s3cret']) {
      expect(() => loadConfig({ LLM_API_KEY: key }), JSON.stringify(key))
        .to.throw(ConfigError, /LLM_API_KEY: .*visible ASCII/)
        .with.property('message')
        .that.does.not.contain('s3cret');
    }
    expect(loadConfig({ LLM_API_KEY: ' sk-1_A.b~ \n' }).llm.apiKey).to.equal('sk-1_A.b~');
  });

  it('names the workshop spelling when the key under it is the bad one', () => {
    expect(() => loadConfig({ ELECTRICITY_MAP_API_KEY: 'ab cd-s3cret' }))
      .to.throw(ConfigError, /^ELECTRICITY_MAP_API_KEY: .*visible ASCII/)
      .with.property('variable', 'ELECTRICITY_MAP_API_KEY');
  });

  // A blank value counts as unset everywhere else: a blank new name hid the old one's key, and
  // the service ran on annual averages.
  it('takes the workshop spelling when the new name is set blank', () => {
    for (const blank of ['', '  ', '\n']) {
      const config = loadConfig({ ELECTRICITY_MAPS_API_KEY: blank, ELECTRICITY_MAP_API_KEY: 'k1' });
      expect(config.grid.apiKey, JSON.stringify(blank)).to.equal('k1');
    }
  });

  // OTEL_LOG_LEVEL and CARBONSCOPE_LOG_LEVEL take any case: LOG_LEVEL=INFO stopped the service.
  it('takes LOG_LEVEL in any case, as the other level variables', () => {
    expect(loadConfig({ LOG_LEVEL: 'INFO' }).logLevel).to.equal('info');
    expect(loadConfig({ LOG_LEVEL: ' Debug ' }).logLevel).to.equal('debug');
    expect(() => loadConfig({ LOG_LEVEL: 'LOUD' }))
      .to.throw(ConfigError, /LOUD/)
      .with.property('variable', 'LOG_LEVEL');
  });

  it('traces each Koa middleware only when TRACE_KOA_MIDDLEWARE=true', () => {
    expect(loadConfig({ TRACE_KOA_MIDDLEWARE: 'true' }).otel.koaMiddlewareSpans).to.equal(true);
    expect(loadConfig({ TRACE_KOA_MIDDLEWARE: 'false' }).otel.koaMiddlewareSpans).to.equal(false);
  });

  it('leaves probes and scrapes out of traces unless TRACE_IGNORED_PATHS lists other paths', () => {
    expect(loadConfig({}).otel.untracedPaths).to.deep.equal(['/healthz', '/readyz', '/metrics']);
    expect(loadConfig({ TRACE_IGNORED_PATHS: 'none' }).otel.untracedPaths).to.deep.equal([]);
    expect(
      loadConfig({ TRACE_IGNORED_PATHS: ' /livez , /metrics,,' }).otel.untracedPaths,
    ).to.deep.equal(['/livez', '/metrics']);
    const many = Array.from({ length: 65 }, (_, i) => `/p${i}`).join(',');
    expect(() => loadConfig({ TRACE_IGNORED_PATHS: many }))
      .to.throw(ConfigError)
      .with.property('variable', 'TRACE_IGNORED_PATHS');
  });

  // An endpoint set for the traces' sake pushed metrics too, whatever OTEL_METRICS_EXPORTER said:
  // Prometheus, scraping /metrics as well, got every series twice.
  it('pushes no metrics where OTEL_METRICS_EXPORTER names no otlp, and refuses one it lacks', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    const pushes = (exporters: string) =>
      loadConfig({ ...endpoint, OTEL_METRICS_EXPORTER: exporters }).otel.otlpMetricsEnabled;
    expect(pushes('none')).to.equal(false);
    expect(pushes('prometheus')).to.equal(false);
    expect(pushes('otlp')).to.equal(true);
    expect(pushes('prometheus, otlp')).to.equal(true);
    expect(pushes('none,none')).to.equal(false);
    expect(() => loadConfig({ ...endpoint, OTEL_METRICS_EXPORTER: 'otlp,graphite' }))
      .to.throw(ConfigError, /none alone, or a comma-separated list of otlp, prometheus/)
      .with.property('variable', 'OTEL_METRICS_EXPORTER');
  });

  it('turns the OTLP reader on for either endpoint variable', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).otel.otlpMetricsEnabled).to
      .be.true;
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/v1/metrics' }).otel
        .otlpMetricsEnabled,
    ).to.be.true;
  });

  it('refuses a base URL with a user or password at start: fetch would refuse every call', () => {
    // The grid would fall back to annual averages and /chat answer 502 for good, for a setting
    // that cannot work.
    for (const variable of ['ELECTRICITY_MAPS_BASE_URL', 'LLM_BASE_URL']) {
      for (const url of [
        'https://em-user:SECRET9@api.example/v3',
        'http://em-user@api.example/',
        // An escape that decodes to nothing (%zz, or %E0 alone) is still a password.
        'https://em-user:SECRET9%zz@api.example/v3',
        'https://em-user:SECRET9%E0@api.example/v3',
        // An unescaped # or ? in the password ends the authority for the parser (host em-user,
        // the rest a fragment or query): fetch would call em-user, and the password is one still.
        'https://em-user:#SECRET9@api.example/v3',
        'https://em-user:12?SECRET9@api.example/v3',
      ]) {
        expect(() => loadConfig({ [variable]: url }), `${variable}=${url}`)
          .to.throw(ConfigError)
          .with.property('message')
          .that.matches(/credentials in the URL are not supported/)
          .and.does.not.match(/SECRET9|em-user/);
      }
    }
    // The OTLP exporters do not go through fetch: their endpoints are left as they were.
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://u:p@c:4318' }).otel.otlpMetricsEnabled)
      .to.be.true;
  });

  it('never echoes the user and password of a URL it refuses, even with / or @ unencoded', () => {
    const refused = [
      'https://em-user:pa/ss-SECRET9@api.example/v3', // the / ends the host: no URL
      'ftp://em-user:pa@ss-SECRET9@api.example/v3', // not http(s)
      'ftp://em-user:pass-SECRET9@api.example/v3',
    ];
    for (const variable of ['ELECTRICITY_MAPS_BASE_URL', 'LLM_BASE_URL']) {
      for (const url of refused) {
        expect(() => loadConfig({ [variable]: url }), `${variable}=${url}`)
          .to.throw(ConfigError)
          .with.property('message')
          .that.matches(/\[redacted\]@api\.example/)
          .and.does.not.match(/SECRET9|em-user/);
      }
    }
  });

  it('shows a refused URL and a zone as written where they hold no secret', () => {
    expect(() => loadConfig({ LLM_BASE_URL: 'ftp://llm.example/v1?api-version=2024-06-01' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('(got "ftp://llm.example/v1?api-version=2024-06-01")');
    expect(() => loadConfig({ CARBON_ZONE: 'US#CAL' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.includes('(got "US#CAL")');
  });

  it('never echoes a secret-named query value of a URL it refuses', () => {
    for (const variable of ['ELECTRICITY_MAPS_BASE_URL', 'LLM_BASE_URL']) {
      const url = 'ftp://api.example/v3?api-version=1&ACCESS_TOKEN=tok-SECRET9#sig=SECRET8';
      expect(() => loadConfig({ [variable]: url }), variable)
        .to.throw(ConfigError)
        .with.property('message')
        .that.includes('?api-version=1&ACCESS_TOKEN=[redacted]#sig=[redacted]')
        .and.does.not.match(/SECRET/);
    }
  });

  it('redacts secrets but keeps their presence visible', () => {
    const c = loadConfig({ ELECTRICITY_MAPS_API_KEY: 'secret-em', LLM_API_KEY: 'secret-llm' });
    const text = JSON.stringify(redactConfig(c));
    expect(text).not.to.include('secret-em');
    expect(text).not.to.include('secret-llm');
    expect(text).to.include('[redacted]');
  });

  // The energy exporters' URLs were logged as set at start, and their secret parameters missing
  // from the masked values: `?token=` of KEPLER_METRICS_URL went out in the config line and, as
  // an outgoing fetch span's url.query, to the collector and OTel's debug log.
  it("masks the energy exporters' secret parameters in the config line and the secrets list", () => {
    const envs = [
      {
        KEPLER_METRICS_URL: 'http://kepler:28282/metrics?token=kep-t0ken-1',
        SCAPHANDRE_PROMETHEUS_URL: 'http://prom:9090/?access_token=sca-pr0m-4',
      },
      {
        KEPLER_PROMETHEUS_URL: 'http://prom:9090/?api_key=kep-pr0m-2',
        SCAPHANDRE_METRICS_URL: 'http://scaph:8080/metrics?token=sca-t0ken-3',
      },
    ];
    const configs = envs.map((env) => loadConfig(env));
    const text = JSON.stringify(configs.map(redactConfig));
    const secrets = configs.flatMap((c) => secretsOf(c));
    for (const secret of ['kep-t0ken-1', 'kep-pr0m-2', 'sca-t0ken-3', 'sca-pr0m-4']) {
      expect(text).not.to.include(secret);
      expect(secrets).to.include(secret);
    }
    expect(text).to.include('http://kepler:28282/metrics?token=[redacted]');
  });

  // The dashboards and alerts count a running app by its energy counter moving, which holds for
  // pushes up to 100 s apart: a longer interval made running apps blink out, without a word.
  describe('the push interval the dashboards assume', () => {
    const pushing = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    it('warns of an OTLP push interval over 100 s, naming the setting and the limit', () => {
      const warning = pushIntervalWarning(
        loadConfig({ ...pushing, OTEL_METRIC_EXPORT_INTERVAL: '100001' }),
      );
      expect(warning?.fields).to.deep.equal({
        setting: 'OTEL_METRIC_EXPORT_INTERVAL',
        intervalMs: 100_001,
        limitMs: 100_000,
      });
      expect(warning?.message).to.match(/^OTEL_METRIC_EXPORT_INTERVAL is 100001 ms, over 100 s/);
    });

    for (const [what, env] of [
      ['at the limit', { ...pushing, OTEL_METRIC_EXPORT_INTERVAL: '100000' }],
      ['at the default, 60 s', pushing],
      ['without a push (scraped only)', { OTEL_METRIC_EXPORT_INTERVAL: '600000' }],
      [
        'with the push turned off',
        { ...pushing, OTEL_METRICS_EXPORTER: 'prometheus', OTEL_METRIC_EXPORT_INTERVAL: '600000' },
      ],
    ] as const) {
      it(`says nothing ${what}`, () => {
        expect(pushIntervalWarning(loadConfig(env))).to.equal(undefined);
      });
    }
  });
});
