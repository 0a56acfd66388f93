import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { hasGlobalMeterProvider } from '../../../src/otel/own-provider.js';

/**
 * Runs `fn` with the API's no-op meter provider class named `name`, as a bundle names it: esbuild
 * renames the API's inner `function NoopMeterProvider()` to `NoopMeterProvider2` (its outer
 * `var` keeps the name), a minifier to a letter or two.
 */
function withNoopNamed(name: string, fn: () => void): void {
  const noop = metrics.getMeterProvider().constructor;
  const own = Object.getOwnPropertyDescriptor(noop, 'name');
  Object.defineProperty(noop, 'name', { value: name, configurable: true });
  try {
    fn();
  } finally {
    if (own) Object.defineProperty(noop, 'name', own);
  }
}

describe('whether the application registered a meter provider', () => {
  afterEach(() => metrics.disable());

  it('is no when none is registered', () => {
    expect(hasGlobalMeterProvider()).to.equal(false);
  });

  it('is yes once one is', () => {
    metrics.setGlobalMeterProvider(new MeterProvider());
    expect(hasGlobalMeterProvider()).to.equal(true);
  });

  // register in an esbuild bundle took the renamed no-op for the application's provider: it
  // joined it and started no SDK of its own, and nothing was exported, without a word.
  for (const name of ['NoopMeterProvider2', 't']) {
    it(`is no in a bundle that names the API's no-op class ${name}`, () => {
      withNoopNamed(name, () => expect(hasGlobalMeterProvider()).to.equal(false));
    });
  }
});
