import { expect } from 'chai';
import { exporterPackages, importSdk, MissingSdkError } from '../../../src/otel/optional-sdk.js';

describe('the optional SDK packages', () => {
  // With none installed, OTEL_METRICS_EXPORTER=prometheus named sdk-metrics and resources; once
  // those were installed, the next start named exporter-prometheus: two tries for one install.
  it('names every missing one in one error, the exporters with the SDK', async () => {
    const err = await importSdk('OTEL_METRICS_EXPORTER=prometheus', [
      '@opentelemetry/exporter-not-installed',
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(MissingSdkError);
    expect((err as MissingSdkError).packages).to.deep.equal([
      '@opentelemetry/exporter-not-installed',
    ]);
  });

  it('knows which package each exporter needs, by the OTLP protocol', () => {
    expect(exporterPackages(['prometheus', 'console'], {})).to.deep.equal([
      '@opentelemetry/exporter-prometheus',
    ]);
    expect(exporterPackages(['otlp'], {})).to.deep.equal([
      '@opentelemetry/exporter-metrics-otlp-proto',
    ]);
    expect(
      exporterPackages(['otlp', 'prometheus'], { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    ).to.deep.equal([
      '@opentelemetry/exporter-metrics-otlp-http',
      '@opentelemetry/exporter-prometheus',
    ]);
  });
});
