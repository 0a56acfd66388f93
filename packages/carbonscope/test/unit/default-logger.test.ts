import { expect } from 'chai';
import { defaultLogger } from '../../src/default-logger.js';
import { CarbonscopeInstrumentation } from '../../src/instrumentation.js';
import type { Logger } from '../../src/log.js';
import { Carbonscope } from '../../src/runtime/carbonscope.js';
import { envSecretsOf, loadSettings, otlpSecretsOf, secretsOf } from '../../src/settings.js';
import { stderrOf } from '../helpers/captured-writes.js';
import {
  constantSource,
  intensityReading,
  ManualTimer,
  StubGrid,
  testConfig,
} from './energy/scripted.js';

describe('the default logger (register, the instrumentation, Carbonscope.create)', () => {
  const env = {
    ELECTRICITY_MAPS_API_KEY: 'em-KEY-5a1c9e',
    ELECTRICITY_MAPS_BASE_URL: 'https://grid:GRID-PW-77@em.example/v3',
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://push:OTLP-PW-42@127.0.0.1:4318',
    OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20tok-HEADER-9f8e7d,x-tenant=1',
  };

  it('masks every secret of the environment on every line', () => {
    const text = stderrOf(() => {
      const logger = defaultLogger(env);
      logger.warn(`grid said: key em-KEY-5a1c9e refused at ${env.ELECTRICITY_MAPS_BASE_URL}`);
      logger.error(
        { url: env.OTEL_EXPORTER_OTLP_ENDPOINT },
        'push refused Bearer tok-HEADER-9f8e7d',
      );
    });
    expect(text).to.include('[redacted]');
    for (const secret of ['em-KEY-5a1c9e', 'GRID-PW-77', 'OTLP-PW-42', 'tok-HEADER-9f8e7d']) {
      expect(text).not.to.include(secret);
    }
  });

  // The instrumentation's start logs through the logger it made, not one made from the settings:
  // a key given in code, in no variable, went out as written.
  it('masks the key of settings the instrumentation was given in code, in no variable', () => {
    const apiKey = 'code-KEY-7e21b4';
    const settings = { ...testConfig(), grid: { ...testConfig().grid, apiKey } };
    const instrumentation = new CarbonscopeInstrumentation({ enabled: false, settings, env: {} });
    const { logger } = instrumentation as unknown as { logger: Logger };
    const text = stderrOf(() => logger.warn(`grid said: key ${apiKey} refused`));
    expect(text).to.equal('carbonscope: warning: grid said: key [redacted] refused\n');
  });

  it('masks the user name of an endpoint that has no password as userinfo, the URL still whole', () => {
    const url = 'http://alice@127.0.0.1:4318/v1/metrics';
    const text = stderrOf(() => {
      defaultLogger({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url }).warn(`push to ${url} failed`);
    });
    expect(text).to.equal(
      'carbonscope: warning: push to http://[redacted]@127.0.0.1:4318/v1/metrics failed\n',
    );
  });

  it('leaves ordinary words and short header values alone', () => {
    const text = stderrOf(() => defaultLogger(env).warn('1 grid total of 1 push'));
    expect(text).to.include('1 grid total of 1 push');
  });

  // A key of a letter masked every such letter of every line ("[redacted]ind"). A key is a
  // secret by what it is: masked alone from 3 characters; a header value (a tenant id) from 8.
  it('masks a key alone from 3 characters, a header value from 8, and leaves text alone', () => {
    const line = 'kind: network, ab abc acme-01 a keyed lookup';
    for (const [key, shown] of [
      ['k', line],
      ['ab', line],
      ['abc', 'kind: network, ab [redacted] acme-01 a keyed lookup'],
      ['network', 'kind: [redacted], ab abc acme-01 a keyed lookup'],
    ]) {
      const vars = {
        ELECTRICITY_MAPS_API_KEY: key,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme-01',
      };
      for (const logger of [defaultLogger(vars), defaultLogger(vars, loadSettings(vars))]) {
        expect(
          stderrOf(() => logger.warn(line)),
          key,
        ).to.equal(`carbonscope: warning: ${shown}\n`);
      }
    }
  });

  it('warns at the start of a key too short to be masked, and of no other', async () => {
    const warnedOf = async (apiKey: string) => {
      const warnings: string[] = [];
      const none = () => undefined;
      const logger: Logger = {
        debug: none,
        info: none,
        error: none,
        warn: ((message: unknown) => void warnings.push(String(message))) as Logger['warn'],
      };
      const cs = await Carbonscope.create({
        settings: { ...testConfig(), grid: { ...testConfig().grid, apiKey } },
        env: {},
        logger,
        grid: new StubGrid(intensityReading('DE', 300)),
        sources: { host: constantSource(5), gpus: [] },
        timer: new ManualTimer(),
      });
      await cs.stop();
      return warnings.join('\n');
    };
    expect(await warnedOf('k')).to.match(/Electricity Maps API key has fewer than 3 characters/);
    expect(await warnedOf('abc')).not.to.match(/API key/);
  });

  it('takes from the environment what secretsOf takes of the settings loaded from it', () => {
    // The older name of the key included: the two must not drift apart.
    for (const vars of [
      { ELECTRICITY_MAP_API_KEY: 'old-KEY-3b9d' },
      // Both names set to different keys stop the load; to one key, it is that one.
      { ELECTRICITY_MAPS_API_KEY: 'em-KEY-5a1c9e', ELECTRICITY_MAP_API_KEY: 'em-KEY-5a1c9e\n' },
      // A key from a file (a Kubernetes secret) ends in a line break, which loading trims.
      { ELECTRICITY_MAPS_API_KEY: 'file-KEY-2e7f\n' },
      { ELECTRICITY_MAPS_API_KEY: ' ', ELECTRICITY_MAP_API_KEY: '  old-KEY-3b9d\n' },
      { OTEL_EXPORTER_OTLP_HEADERS: env.OTEL_EXPORTER_OTLP_HEADERS },
      // An exporter's key in its query: a Prometheus behind a proxy that takes one.
      {
        KEPLER_METRICS_URL: 'http://kepler:28282/metrics?token=kep-TOK-81c2',
        SCAPHANDRE_PROMETHEUS_URL: 'http://prom:9090/?api_key=sca-KEY-4d0e',
      },
    ]) {
      const loaded = [...secretsOf(loadSettings(vars)), ...otlpSecretsOf(vars)];
      expect(envSecretsOf(vars), JSON.stringify(vars)).to.deep.equal(loaded);
    }
    const exporters = {
      KEPLER_PROMETHEUS_URL: 'http://prom:9090/?token=kep-TOK-81c2',
      SCAPHANDRE_METRICS_URL: 'http://scaph:8080/metrics?api_key=sca-KEY-4d0e',
    };
    expect(envSecretsOf(exporters)).to.include.members(['kep-TOK-81c2', 'sca-KEY-4d0e']);
  });

  // OTEL_TRACES_EXPORTER=zipkin: under OTEL_LOG_LEVEL=debug the exporter logs a refusing
  // server's body, which echoed the endpoint's `?token=` and its `Authorization: Basic`.
  it("masks the Zipkin endpoint's password and secret parameters, as an OTLP endpoint's", () => {
    const zipkin = 'http://zu:ZIP-PW-31@zipkin:9411/api/v2/spans?token=zip-TOK-77';
    const basic = Buffer.from('zu:ZIP-PW-31').toString('base64');
    const text = stderrOf(() => {
      defaultLogger({ OTEL_EXPORTER_ZIPKIN_ENDPOINT: zipkin }).warn(
        `zipkin said 400: POST /api/v2/spans?token=zip-TOK-77 authorization: Basic ${basic}`,
      );
    });
    for (const secret of ['ZIP-PW-31', 'zip-TOK-77', basic]) expect(text).not.to.include(secret);
  });

  it('reads variables as written and never throws on a malformed one', () => {
    const odd = { ELECTRICITY_MAPS_BASE_URL: 'not a url', OTEL_EXPORTER_OTLP_HEADERS: '=,,x' };
    expect(() => defaultLogger(odd).warn('ok')).not.to.throw();
  });
});

describe('the default logger of settings given in code', () => {
  it("Carbonscope.create masks the settings' own secrets, which the environment may not hold", async () => {
    const settings = {
      ...testConfig(),
      grid: { ...testConfig().grid, apiKey: 'code-KEY-71c0ffee' },
    };
    const cs = await Carbonscope.create({
      settings,
      env: {},
      grid: new StubGrid(intensityReading('DE', 300)),
      sources: { host: constantSource(5), gpus: [] },
      timer: new ManualTimer(),
    });
    try {
      const text = stderrOf(() => cs.logger.warn('refused code-KEY-71c0ffee'));
      expect(text).not.to.include('code-KEY-71c0ffee');
      expect(text).to.include('[redacted]');
    } finally {
      await cs.stop();
    }
  });
});
