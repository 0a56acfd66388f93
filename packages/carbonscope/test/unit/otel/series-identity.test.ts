import { metrics } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import { continuesSeries } from '../../../src/otel/series-identity.js';

describe("continuesSeries: whether the application's provider writes the own provider's series", () => {
  const withId = (id: string) =>
    new MeterProvider({ resource: resourceFromAttributes({ 'service.instance.id': id }) });

  it("reads the SDK provider's resource: the same service.instance.id, or not", () => {
    expect(continuesSeries(withId('pod-7'), 'pod-7', true)).to.equal(true);
    expect(continuesSeries(withId('other'), 'pod-7', true)).to.equal(false);
    // Pinned by the environment, which a provider built without reading it does not carry.
    expect(continuesSeries(new MeterProvider(), 'pod-7', true)).to.equal(false);
  });

  it('takes a provider it cannot read as pinned or not', () => {
    const opaque = { getMeter: () => metrics.getMeterProvider().getMeter('x') };
    expect(continuesSeries(opaque, 'pod-7', true)).to.equal(true);
    expect(continuesSeries(opaque, 'random', false)).to.equal(false);
  });
});
