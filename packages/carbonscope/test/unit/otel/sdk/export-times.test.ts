import { getNumberFromEnv } from '@opentelemetry/core';
import { expect } from 'chai';
import {
  exportTimeoutOverInterval,
  otlpExporterTimeout,
  periodicTimes,
} from '../../../../src/index.js';
import { SettingsError } from '../../../../src/settings.js';
import { withEnv } from '../../../helpers/with-env.js';

/** The SettingsError otlpExporterTimeout throws for `env`, or a failure when it returns. */
function refusal(env: Record<string, string>, readerTimeoutMs = 30_000): SettingsError {
  let value: number | undefined;
  try {
    value = otlpExporterTimeout(env, readerTimeoutMs);
  } catch (err) {
    expect(err).to.be.instanceOf(SettingsError);
    return err as SettingsError;
  }
  throw new Error(`no error: returned ${value}`);
}

describe('otlpExporterTimeout', () => {
  it("is the exporter's 10 s default, cut to the reader's timeout", () => {
    expect(otlpExporterTimeout({}, 30_000)).to.equal(10_000);
    expect(otlpExporterTimeout({}, 5_000)).to.equal(5_000);
  });

  it('takes OTEL_EXPORTER_OTLP_METRICS_TIMEOUT over OTEL_EXPORTER_OTLP_TIMEOUT', () => {
    const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '2000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '3000' };
    expect(otlpExporterTimeout(env, 30_000)).to.equal(3000);
    expect(otlpExporterTimeout({ OTEL_EXPORTER_OTLP_TIMEOUT: ' 2000 ' }, 30_000)).to.equal(2000);
  });

  it('reads an empty or blank variable as unset (the spec): the next one, or the default', () => {
    expect(otlpExporterTimeout({ OTEL_EXPORTER_OTLP_TIMEOUT: '' }, 30_000)).to.equal(10_000);
    const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '2000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '  ' };
    expect(otlpExporterTimeout(env, 30_000)).to.equal(2000);
  });

  it("reads 0 as the spec's indefinite: 10 min at most, cut to the reader's timeout", () => {
    expect(otlpExporterTimeout({ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, 30_000)).to.equal(30_000);
    const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '2000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: ' 0 ' };
    expect(otlpExporterTimeout(env, 30_000)).to.equal(30_000);
    // Never none at all, nor a timer past setTimeout's limit.
    const uncut = otlpExporterTimeout(
      { OTEL_EXPORTER_OTLP_TIMEOUT: '0' },
      Number.POSITIVE_INFINITY,
    );
    expect(uncut).to.equal(600_000);
  });

  for (const variable of ['OTEL_EXPORTER_OTLP_TIMEOUT', 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT']) {
    // Each would be a timeout of NaN, a negative one (a RangeError at the first push) or one
    // past setTimeout's 2^31 - 1 ms (which fires at once).
    // The reason says how the OTLP exporter reads it (getNumberFromEnv, then finite and over 0).
    for (const [value, reason] of [
      ['-5', 'from 0 to 600000; the SDK ignores it for its default'],
      ['abc', 'from 0 to 600000; the SDK ignores it for its default'],
      ['5s', 'from 0 to 600000; the SDK ignores it for its default'],
      ['Infinity', 'from 0 to 600000; the SDK ignores it for its default'],
      ['1.5', 'from 0 to 600000; the SDK reads it as 1.5'],
      ['99999999999', 'from 0 to 600000; the SDK reads it as 99999999999'],
      ['4294967296000', 'from 0 to 600000; the SDK reads it as 4294967296000'],
    ] as const) {
      it(`${variable}=${value}: a SettingsError naming it, as register's start gives`, () => {
        // A reader timeout over it, so that no cut hides the value.
        const err = refusal({ [variable]: value }, Number.POSITIVE_INFINITY);
        expect(err.variable).to.equal(variable);
        expect(err.message).to.include(reason).and.include(JSON.stringify(value));
      });
    }
  }

  // The OTLP exporters read their timeouts with @opentelemetry/core's getNumberFromEnv, Number()
  // of the text: each of these is 1500 ms to them, and register refused all but the last.
  for (const value of ['1.5e3', '0x5dc', '+1500', '1500.0', '0b10111011100', ' 1500 ']) {
    it(`takes OTEL_EXPORTER_OTLP_TIMEOUT=${value} as the exporter reads it`, () => {
      const env = { OTEL_EXPORTER_OTLP_TIMEOUT: value };
      const sdk = withEnv(env, () => getNumberFromEnv('OTEL_EXPORTER_OTLP_TIMEOUT'));
      expect(sdk).to.equal(1500);
      expect(otlpExporterTimeout(env, 30_000)).to.equal(sdk);
      expect(otlpExporterTimeout(env, 30_000, 'TRACES')).to.equal(sdk);
    });
  }

  it('reads OTEL_EXPORTER_OTLP_TRACES_TIMEOUT for a span exporter, 0 as metrics read it', () => {
    const traces = (env: Record<string, string>, boundMs = 30_000) =>
      otlpExporterTimeout(env, boundMs, 'TRACES');
    expect(traces({})).to.equal(10_000);
    expect(traces({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' })).to.equal(30_000);
    expect(traces({ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, 5000)).to.equal(5000);
    const both = { OTEL_EXPORTER_OTLP_TIMEOUT: '2000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' };
    expect(traces(both)).to.equal(30_000);
    expect(traces({ ...both, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '3000' })).to.equal(3000);
    // Each signal its own variable: a metrics one says nothing of spans, nor the reverse.
    expect(traces({ OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '0' })).to.equal(10_000);
    expect(otlpExporterTimeout({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '0' }, 30_000)).to.equal(
      10_000,
    );
    let err: unknown;
    try {
      traces({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '5s' });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(SettingsError);
    expect((err as SettingsError).variable).to.equal('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT');
  });

  for (const bad of [Number.NaN, -1, 0, 0.5]) {
    it(`readerTimeoutMs ${bad}: a RangeError, never a timeout of ${bad} ms`, () => {
      expect(() => otlpExporterTimeout({}, bad)).to.throw(
        RangeError,
        `readerTimeoutMs: expected milliseconds, 1 or more (got ${bad})`,
      );
    });
  }

  it('takes a fractional reader timeout down to whole milliseconds, a huge one as no cut', () => {
    expect(otlpExporterTimeout({}, 1500.7)).to.equal(1500);
    expect(otlpExporterTimeout({}, 2 ** 40)).to.equal(10_000);
    expect(otlpExporterTimeout({}, Number.POSITIVE_INFINITY)).to.equal(10_000);
  });
});

describe('periodicTimes: one reading of the reader settings, for register and the service', () => {
  const times = (env: Record<string, string>) => periodicTimes(env);

  it('defaults to 60 s and 30 s, and cuts the default timeout to a shorter interval unflagged', () => {
    expect(times({})).to.deep.equal({
      exportIntervalMillis: 60_000,
      exportTimeoutMillis: 30_000,
      timeoutOverInterval: false,
    });
    expect(times({ OTEL_METRIC_EXPORT_INTERVAL: '5000' })).to.deep.equal({
      exportIntervalMillis: 5000,
      exportTimeoutMillis: 5000,
      timeoutOverInterval: false,
    });
  });

  it("reads 0 (the spec's indefinite) as the interval, and flags only a timeout set over it", () => {
    expect(
      times({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '0' }),
    ).to.deep.equal({
      exportIntervalMillis: 5000,
      exportTimeoutMillis: 5000,
      timeoutOverInterval: false,
    });
    expect(
      times({ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '9000' }),
    ).to.deep.equal({
      exportIntervalMillis: 5000,
      exportTimeoutMillis: 5000,
      timeoutOverInterval: true,
    });
    expect(times({ OTEL_METRIC_EXPORT_TIMEOUT: ' 2000 ' }).exportTimeoutMillis).to.equal(2000);
  });
});

describe("exportTimeoutOverInterval: register's warning and the service's refusal, one rule", () => {
  const over = { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '9000' };

  it('is undefined where periodicTimes flags nothing: unset, 0, the default over a short interval', () => {
    for (const env of [
      {},
      { OTEL_METRIC_EXPORT_INTERVAL: '5000' },
      { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '0' },
      { OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '5000' },
    ]) {
      expect(periodicTimes(env).timeoutOverInterval, JSON.stringify(env)).to.equal(false);
      expect(exportTimeoutOverInterval(env, 'stops'), JSON.stringify(env)).to.equal(undefined);
    }
  });

  it('names the timeout as read and the interval, then what the caller does about it', () => {
    const cut = exportTimeoutOverInterval(over, 'goesOn');
    expect(cut).to.be.instanceOf(SettingsError);
    expect(cut?.variable).to.equal('OTEL_METRIC_EXPORT_TIMEOUT');
    expect(cut?.message).to.equal(
      'OTEL_METRIC_EXPORT_TIMEOUT: 9000 ms is over OTEL_METRIC_EXPORT_INTERVAL (5000): the interval is used',
    );
    expect(exportTimeoutOverInterval(over, 'stops')?.message).to.equal(
      'OTEL_METRIC_EXPORT_TIMEOUT: 9000 ms is over OTEL_METRIC_EXPORT_INTERVAL (5000): a push may not outlast the interval between pushes',
    );
  });

  it('gives the text where written otherwise, and marks an unset interval as the default', () => {
    const env = { OTEL_METRIC_EXPORT_INTERVAL: ' ', OTEL_METRIC_EXPORT_TIMEOUT: '0x15f90' };
    expect(exportTimeoutOverInterval(env, 'goesOn')?.message).to.equal(
      'OTEL_METRIC_EXPORT_TIMEOUT: 90000 ms (0x15f90) is over OTEL_METRIC_EXPORT_INTERVAL (60000, its default): the interval is used',
    );
  });
});
