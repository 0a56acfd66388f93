import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { expect } from 'chai';
import { startTraceSink, type TraceSink } from '../../bench/trace-sink.js';

/** `count` spans from a provider exporting over OTLP/HTTP (protobuf) as the traced servers do. */
async function exportSpans(url: string, count: number) {
  const provider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  const tracer = provider.getTracer('bench');
  for (let i = 0; i < count; i++) tracer.startSpan(`span ${i}`).end();
  await provider.shutdown();
}

describe('the bench trace sink', () => {
  let sink: TraceSink;
  before(async () => {
    sink = await startTraceSink();
  });
  after(() => sink.close());

  it("counts each variant's spans from the OTLP exporter's own requests", async () => {
    await exportSpans(sink.endpoint('bareTracing'), 3);
    await exportSpans(sink.endpoint('tracing'), 700);
    expect(sink.spans('bareTracing')).to.equal(3);
    expect(sink.spans('tracing')).to.equal(700);
    expect(sink.spans('own-tracing')).to.equal(0);
  });
});
