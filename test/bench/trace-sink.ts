/**
 * The OTLP/HTTP endpoint the bench's traced variants export to (uncompressed http/protobuf),
 * in the bench's process: it counts the spans each variant's exports carry (each posts to its
 * own path) and drops them. The count says whether the variants compared export every span
 * they make: one whose SDK drops spans (a full BatchSpanProcessor queue) does less work and
 * reads cheaper.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import protobuf from 'protobufjs';

/** opentelemetry-proto's trace request down to the spans, which are counted, not read. */
const OTLP_TRACES_SUBSET = `
syntax = "proto3";
package otlp;
message Span { bytes trace_id = 1; }
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

interface TraceRequest {
  resource_spans?: Array<{ scope_spans?: Array<{ spans?: unknown[] }> }>;
}

const REQUEST = protobuf
  .parse(OTLP_TRACES_SUBSET, { keepCase: true })
  .root.lookupType('otlp.ExportTraceServiceRequest');

/** The spans in one http/protobuf export request's body. */
export function spansIn(body: Uint8Array): number {
  const request = REQUEST.decode(body) as unknown as TraceRequest;
  let spans = 0;
  for (const resource of request.resource_spans ?? []) {
    for (const scope of resource.scope_spans ?? []) spans += scope.spans?.length ?? 0;
  }
  return spans;
}

export interface TraceSink {
  port: number;
  /** The traces endpoint for `key` (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  endpoint(key: string): string;
  /** Spans received so far from `key`'s endpoint. */
  spans(key: string): number;
  close(): void;
}

export async function startTraceSink(): Promise<TraceSink> {
  const counts = new Map<string, number>();
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const key = decodeURIComponent((req.url ?? '').replace(/^\/v1\/traces\/?/, ''));
      try {
        counts.set(key, (counts.get(key) ?? 0) + spansIn(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const port = (sink.address() as { port: number }).port;
  return {
    port,
    endpoint: (key) => `http://127.0.0.1:${port}/v1/traces/${encodeURIComponent(key)}`,
    spans: (key) => counts.get(key) ?? 0,
    close: () => sink.close(),
  };
}
