import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import {
  CarbonscopeInstrumentation,
  type CarbonscopeInstrumentationConfig,
} from '../../../src/instrumentation.js';
import { withCurrentGauges } from '../../../src/otel/binding/current-gauges.js';
import { LocalHistograms } from '../../../src/otel/binding/local-histograms.js';
import { SCOPE } from '../../../src/otel/scope.js';

// The README's recipe as plain JavaScript may get it wrong. Each mistake was taken: a
// `histograms` that is none, an SDK module that is not @opentelemetry/sdk-metrics, a temporality
// misspelt ('delta') exported cumulative without a word, or failed later in a collection (every
// scrape, every push), far from the line that was wrong. Now each is refused where it is made.
const untyped = <T>(value: unknown) => value as T;
type Config = CarbonscopeInstrumentationConfig;

describe('the OTel recipe given what plain JavaScript can pass', () => {
  it('CarbonscopeInstrumentation refuses a config, histograms, enabled or http of the wrong type', () => {
    const wrong: Array<[unknown, RegExp]> = [
      [null, /^CarbonscopeInstrumentation: the config must be an object \(got null\)/],
      ['x', /^CarbonscopeInstrumentation: the config must be an object \(got string\)/],
      [{ histograms: {} }, /^CarbonscopeInstrumentation: histograms must be a LocalHistograms/],
      [{ histograms: 5 }, /^CarbonscopeInstrumentation: histograms must be a LocalHistograms/],
      [
        { enabled: 'no' },
        /^CarbonscopeInstrumentation: enabled must be true or false \(got string\)/,
      ],
      [{ http: 1 }, /^CarbonscopeInstrumentation: http must be true or false \(got number\)/],
      [{ logger: {} }, /^CarbonscopeInstrumentation: logger must have debug, info, warn and/],
      [{ grid: {} }, /^CarbonscopeInstrumentation: grid must have current\(\) and peek\(\)/],
    ];
    for (const [config, message] of wrong) {
      expect(() => new CarbonscopeInstrumentation(untyped<Config>(config))).to.throw(
        TypeError,
        message,
      );
      const off = new CarbonscopeInstrumentation({ enabled: false });
      expect(() => off.setConfig(untyped<Config>(config)), String(config)).to.throw(TypeError);
    }
    const histograms = new LocalHistograms(sdk, SCOPE);
    const ok = new CarbonscopeInstrumentation({ enabled: false, histograms, http: true });
    expect(ok.getConfig().histograms).to.equal(histograms);
    // Null was none before the check came (bindMetrics reads `if (local)`), as a logger's is.
    const none = untyped<Config>({ enabled: false, histograms: null, grid: null, sources: null });
    expect(() => new CarbonscopeInstrumentation(none)).not.to.throw();
  });

  it('LocalHistograms refuses an SDK module that is none and a scope with no name', () => {
    for (const module of [undefined, null, {}, { AggregationTemporality: {} }]) {
      expect(() => new LocalHistograms(untyped(module), SCOPE)).to.throw(
        TypeError,
        /^LocalHistograms: the first argument must be the @opentelemetry\/sdk-metrics module/,
      );
    }
    for (const scope of [undefined, 5, {}, { name: '' }]) {
      expect(() => new LocalHistograms(sdk, untyped(scope))).to.throw(
        TypeError,
        /^LocalHistograms: the scope must be \{ name, version\? \}/,
      );
    }
  });

  it('producer() refuses a temporality that is neither the SDK enum nor an exporter', () => {
    const histograms = new LocalHistograms(sdk, SCOPE);
    for (const temporality of [5, 'delta', null, true]) {
      expect(() => histograms.producer(untyped(temporality)), String(temporality)).to.throw(
        TypeError,
        /^LocalHistograms\.producer\(\): the temporality must be/,
      );
    }
    expect(histograms.producer()).to.equal(histograms);
    expect(histograms.producer(sdk.AggregationTemporality.CUMULATIVE)).to.equal(histograms);
    expect(histograms.producer(sdk.AggregationTemporality.DELTA)).not.to.equal(histograms);
    // An exporter without a selector is cumulative, as the SDK's own readers take it.
    expect(histograms.producer({})).to.equal(histograms);
  });

  it('withCurrentGauges refuses an SDK module or a reader that is none', () => {
    const reader = new sdk.PeriodicExportingMetricReader({
      exporter: new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE),
    });
    for (const module of [undefined, null, {}]) {
      expect(() => withCurrentGauges(untyped(module), reader)).to.throw(
        TypeError,
        /^withCurrentGauges: the first argument must be the @opentelemetry\/sdk-metrics module/,
      );
    }
    for (const wrong of [undefined, null, 5, {}]) {
      expect(() => withCurrentGauges(sdk, untyped<sdk.IMetricReader>(wrong))).to.throw(
        TypeError,
        /^withCurrentGauges: the reader must be a metric reader/,
      );
    }
    expect(withCurrentGauges(sdk, reader)).to.equal(reader);
  });
});
