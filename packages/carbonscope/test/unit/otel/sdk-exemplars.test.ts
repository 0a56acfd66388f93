/**
 * What the installed OTel JS SDK does with exemplars, which the package README's "Exemplars"
 * paragraph states: none on its own histograms, whatever OTEL_METRICS_EXEMPLAR_FILTER says, and
 * none from a MetricProducer's points (carbonscope's histograms are one), which its OTLP
 * exporters drop. Should an SDK release carry them, these fail: carbonscope's histograms should
 * then carry exemplars too, and the README say so.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtobufExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import * as sdk from '@opentelemetry/sdk-metrics';
import { expect } from 'chai';
import protobuf from 'protobufjs';
import { METRICS } from '../../../src/metrics/index.js';
import { LocalHistograms } from '../../../src/otel/binding/local-histograms.js';
import { SCOPE } from '../../../src/otel/scope.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

/** A context whose span is sampled: what a request's handler runs in with tracing on. */
function sampled(): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: TraceFlags.SAMPLED,
  });
}

/**
 * Just enough of opentelemetry-proto to see a histogram point's exemplars (field 8), which the
 * tests' OTLP receiver does not declare.
 */
const WITH_EXEMPLARS = protobuf
  .parse(`
syntax = "proto3";
package otlp;
message Exemplar { fixed64 time_unix_nano = 2; double as_double = 3; bytes span_id = 4; bytes trace_id = 5; }
message HistogramDataPoint { fixed64 count = 4; repeated Exemplar exemplars = 8; }
message Histogram { repeated HistogramDataPoint data_points = 1; }
message Metric { string name = 1; Histogram histogram = 9; }
message ScopeMetrics { repeated Metric metrics = 2; }
message ResourceMetrics { repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`)
  .root.lookupType('otlp.ExportMetricsServiceRequest');

interface Point {
  count: number | string;
  exemplars?: unknown[];
}
interface Pushed {
  resourceMetrics: Array<{
    scopeMetrics: Array<{ metrics: Array<{ name: string; histogram?: { dataPoints: Point[] } }> }>;
  }>;
}

/** A loopback OTLP/HTTP metrics endpoint that keeps each push decoded, exemplars included. */
async function receiver(): Promise<{ url: string; pushes: Pushed[]; close(): Promise<void> }> {
  const pushes: Pushed[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      pushes.push(
        json
          ? (JSON.parse(body.toString('utf8')) as Pushed)
          : (WITH_EXEMPLARS.toObject(WITH_EXEMPLARS.decode(body), {
              longs: Number,
              oneofs: false,
              json: true,
            }) as Pushed),
      );
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`,
    pushes,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function pointsOf(push: Pushed | undefined, name: string): Point[] {
  const metrics = push?.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
  return metrics?.find((m) => m.name === name)?.histogram?.dataPoints ?? [];
}

describe('exemplars in the installed OTel JS SDK (the README says it carries none)', () => {
  const filterBefore = process.env.OTEL_METRICS_EXEMPLAR_FILTER;
  before(() => {
    // The most an application can ask: an exemplar for every measurement.
    process.env.OTEL_METRICS_EXEMPLAR_FILTER = 'always_on';
  });
  after(() => {
    if (filterBefore === undefined) delete process.env.OTEL_METRICS_EXEMPLAR_FILTER;
    else process.env.OTEL_METRICS_EXEMPLAR_FILTER = filterBefore;
  });

  it('keeps none on its own histogram recorded in a sampled span, under always_on', async () => {
    const exporter = new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE);
    const reader = new sdk.PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: 60_000,
    });
    const provider = new sdk.MeterProvider({ readers: [reader] });
    try {
      const histogram = provider.getMeter('app').createHistogram('app.work', { unit: 's' });
      for (let i = 0; i < 5; i++) histogram.record(0.1 * i, {}, sampled());
      await provider.forceFlush();
      const point = exporter.getMetrics().at(-1)?.scopeMetrics[0]?.metrics[0]?.dataPoints[0];
      expect(point?.value).to.include({ count: 5 });
      // The SDK's DataPoint has no exemplars field; its exemplar classes are not exported.
      expect(Object.keys(point ?? {})).to.have.members([
        'attributes',
        'startTime',
        'endTime',
        'value',
      ]);
      expect(Object.keys(sdk).filter((k) => /exemplar/i.test(k))).to.deep.equal([]);
    } finally {
      await provider.shutdown();
    }
  });

  for (const [encoding, Exporter] of [
    ['http/json', JsonExporter],
    ['http/protobuf', ProtobufExporter],
  ] as const) {
    it(`pushes none over OTLP (${encoding}), from its own histograms or a producer's points that have them`, async () => {
      const otlp = await receiver();
      const local = new LocalHistograms(sdk, SCOPE);
      const energy = local.histogram(METRICS.operationEnergy);
      energy.record(energy.open({ 'carbonscope.operation': '/x' }), 0.5);
      // carbonscope's histograms with an exemplar on their point, as a producer would give it.
      const withExemplar: sdk.MetricProducer = {
        collect: async () => {
          const result = await local.collect();
          const point = result.resourceMetrics.scopeMetrics[0]?.metrics[0]?.dataPoints[0];
          Object.assign(point ?? {}, {
            exemplars: [
              {
                filteredAttributes: {},
                value: 0.5,
                timestamp: [1_700_000_000, 0],
                traceId: TRACE_ID,
                spanId: SPAN_ID,
              },
            ],
          });
          return result;
        },
      };
      const reader = new sdk.PeriodicExportingMetricReader({
        exporter: new Exporter({ url: otlp.url }),
        exportIntervalMillis: 60_000,
        metricProducers: [withExemplar],
      });
      const provider = new sdk.MeterProvider({ readers: [reader] });
      try {
        const own = provider.getMeter('app').createHistogram('app.work', { unit: 's' });
        own.record(0.2, {}, sampled());
        await provider.forceFlush();
        const push = otlp.pushes.at(-1);
        const carbonscope = pointsOf(push, METRICS.operationEnergy.name);
        const sdkOwn = pointsOf(push, 'app.work');
        // Both arrived, counted; neither with an exemplar.
        expect(carbonscope.map((p) => Number(p.count))).to.deep.equal([1]);
        expect(sdkOwn.map((p) => Number(p.count))).to.deep.equal([1]);
        for (const p of [...carbonscope, ...sdkOwn]) expect(p.exemplars ?? []).to.deep.equal([]);
      } finally {
        await provider.shutdown();
        await otlp.close();
      }
    });
  }
});
