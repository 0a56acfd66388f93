import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as sdkMetrics from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import {
  type ExportResult,
  exporterPackages,
  failureOf,
  importSdk,
  MissingSdkError,
  otlpMetricExporter,
} from '../../../src/otel/optional-sdk.js';

/** A reader that collects when asked, and only then. */
class ManualReader extends sdkMetrics.MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** One collection of a provider with one counter: something to export. */
async function someMetrics() {
  const reader = new ManualReader();
  const provider = new sdkMetrics.MeterProvider({ readers: [reader] });
  provider.getMeter('test').createCounter('things').add(1);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

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

  // The exporter's own timeout is its socket's idle timeout: each byte restarted it.
  it("ends an OTLP export at its timeout as a whole, however the collector's answer trickles", async () => {
    const trickling = new Set<NodeJS.Timeout>();
    const collector = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      const timer = setInterval(() => res.write(' '), 100);
      trickling.add(timer);
      res.on('close', () => clearInterval(timer));
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    const url = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/metrics`;
    try {
      const exporter = await otlpMetricExporter({}, 'test', url, 500);
      const metrics = await someMetrics();
      const started = performance.now();
      const result = await Promise.race([
        new Promise<ExportResult>((resolve) => exporter.export(metrics, resolve)),
        new Promise<undefined>((resolve) => setTimeout(resolve, 3000)),
      ]);
      const took = performance.now() - started;
      expect(result, 'the export ended').not.to.equal(undefined);
      expect(took).to.be.within(450, 1000);
      expect(failureOf(result as ExportResult)).to.equal('Request timed out');
      await exporter.shutdown();
    } finally {
      for (const timer of trickling) clearInterval(timer);
      collector.closeAllConnections();
      collector.close();
    }
  });
});
