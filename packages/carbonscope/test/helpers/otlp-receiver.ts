/**
 * A loopback OTLP/HTTP receiver standing in for the Collector's: it takes metrics in either
 * encoding the OTel spec names (`http/protobuf`, the default, and `http/json`) and keeps each
 * push decoded to the same shape, the OTLP/JSON one; traces it takes as http/json.
 */
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/**
 * The part of opentelemetry-proto (collector/metrics/v1 and the metrics, resource and common
 * messages it uses) that the tests read. Field numbers are the specification's; protobuf
 * readers skip what is not declared here (timestamps, exemplars, exponential histograms).
 */
const OTLP_METRICS_SUBSET = `
syntax = "proto3";
package otlp;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
  }
}
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }

message NumberDataPoint {
  repeated KeyValue attributes = 7;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; }
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9;
  fixed64 start_time_unix_nano = 2;
  fixed64 time_unix_nano = 3;
  fixed64 count = 4;
  optional double sum = 5;
  repeated fixed64 bucket_counts = 6;
  repeated double explicit_bounds = 7;
  optional double min = 11;
  optional double max = 12;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum {
  repeated NumberDataPoint data_points = 1;
  int32 aggregation_temporality = 2;
  bool is_monotonic = 3;
}
message Histogram {
  repeated HistogramDataPoint data_points = 1;
  int32 aggregation_temporality = 2;
}
message Metric {
  string name = 1;
  string description = 2;
  string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
}
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;

const REQUEST = protobuf
  .parse(OTLP_METRICS_SUBSET)
  .root.lookupType('otlp.ExportMetricsServiceRequest');

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number; doubleValue?: number; boolValue?: boolean };
}
export interface OtlpNumberPoint {
  attributes: OtlpAttribute[];
  /** Nanoseconds since the epoch (a string in OTLP/JSON). */
  startTimeUnixNano?: number | string;
  timeUnixNano?: number | string;
  asDouble?: number;
  asInt?: number;
}
export interface OtlpHistogramPoint {
  attributes: OtlpAttribute[];
  /** Nanoseconds since the epoch (a string in OTLP/JSON). */
  startTimeUnixNano?: number | string;
  timeUnixNano?: number | string;
  count: number;
  sum?: number;
  bucketCounts: number[];
  explicitBounds: number[];
  min?: number;
  max?: number;
}
/** OTLP's AggregationTemporality (AGGREGATION_TEMPORALITY_DELTA, _CUMULATIVE). */
export const OTLP_DELTA = 1;
export const OTLP_CUMULATIVE = 2;
export interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: OtlpNumberPoint[] };
  sum?: { dataPoints: OtlpNumberPoint[] };
  histogram?: { dataPoints: OtlpHistogramPoint[]; aggregationTemporality?: number };
}
/** An ExportMetricsServiceRequest, as far as the tests read it. */
export interface OtlpMetricsRequest {
  resourceMetrics: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeMetrics: Array<{ scope?: { name?: string; version?: string }; metrics: OtlpMetric[] }>;
  }>;
}

export interface OtlpPush {
  /** `application/x-protobuf` or `application/json`, as the exporter sent it. */
  contentType: string;
  body: OtlpMetricsRequest;
  /** The request's headers (authorization included), as the receiver got them. */
  headers: IncomingHttpHeaders;
}

export interface OtlpReceiver {
  /** Its base URL, as OTEL_EXPORTER_OTLP_ENDPOINT and the CLI's --otlp take it. */
  url: string;
  /** Every push to /v1/metrics answered 2xx so far (each, by default), oldest first. */
  pushes: OtlpPush[];
  /** Every push to /v1/metrics received so far, however it was answered, oldest first. */
  received: OtlpPush[];
  /** Every push to /v1/traces so far (OTLP/JSON), oldest first. */
  traces: Array<Record<string, unknown>>;
  /** Why a push could not be read (answered 400), for a failing test's message. */
  failures: string[];
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

function decode(contentType: string, body: Buffer): OtlpMetricsRequest {
  if (contentType.startsWith('application/json')) {
    return JSON.parse(body.toString('utf8')) as OtlpMetricsRequest;
  }
  return REQUEST.toObject(REQUEST.decode(body), {
    longs: Number,
    arrays: true,
    oneofs: false,
  }) as OtlpMetricsRequest;
}

export interface OtlpReceiverOptions {
  /**
   * The HTTP status a metrics push is answered with (200 by default); the answer waits for a
   * promise (a push held in flight).
   */
  answer?: (push: OtlpPush) => number | Promise<number>;
  /**
   * The data points a push taken (2xx) rejects, with why: an OTLP partial success in its answer.
   * OTLP/JSON pushes only (OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json).
   */
  partialSuccess?: (push: OtlpPush) => { rejected: number; message: string } | undefined;
  /** The Retry-After sent with an answer of 429 or 503 (none by default). */
  retryAfter?: string;
}

/** The answer's body: empty (full success), or the partial success in OTLP/JSON. */
function answerBody(json: boolean, partial: { rejected: number; message: string } | undefined) {
  if (partial === undefined) return json ? '{}' : '';
  if (!json) throw new Error('a partial success is answered to http/json pushes only');
  const { rejected, message } = partial;
  return JSON.stringify({
    partialSuccess: { rejectedDataPoints: String(rejected), errorMessage: message },
  });
}

/** Starts a receiver on a free loopback port; it answers every push with success by default. */
export async function otlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const pushes: OtlpPush[] = [];
  const received: OtlpPush[] = [];
  const traces: Array<Record<string, unknown>> = [];
  const failures: string[] = [];
  const server: Server = createServer((req, res) => {
    const contentType = req.headers['content-type'] ?? '';
    bodyOf(req)
      .then(async (body) => {
        const json = contentType.startsWith('application/json');
        let status = 200;
        let partial: { rejected: number; message: string } | undefined;
        if (req.url === '/v1/metrics') {
          const push = { contentType, body: decode(contentType, body), headers: req.headers };
          received.push(push);
          status = (await options.answer?.(push)) ?? 200;
          if (status < 300) pushes.push(push);
          if (status < 300) partial = options.partialSuccess?.(push);
        }
        if (req.url === '/v1/traces') {
          if (!json) throw new Error('traces are read as http/json only');
          traces.push(JSON.parse(body.toString('utf8')) as Record<string, unknown>);
        }
        // An ExportMetricsServiceResponse in the request's encoding: empty, a full success.
        const retry = options.retryAfter !== undefined && (status === 429 || status === 503);
        res
          .writeHead(status, {
            'content-type': json ? 'application/json' : 'application/x-protobuf',
            ...(retry ? { 'retry-after': options.retryAfter } : {}),
          })
          .end(answerBody(json, partial));
      })
      .catch((err: unknown) => {
        failures.push(`${req.url} (${contentType}): ${String(err)}`);
        res.writeHead(400).end();
      });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pushes,
    received,
    traces,
    failures,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The data points of the pushes `requests`, every metric's, as the collector counts them. */
export function dataPointCount(requests: readonly OtlpMetricsRequest[]): number {
  let points = 0;
  for (const request of requests) {
    for (const { scopeMetrics } of request.resourceMetrics) {
      for (const { metrics } of scopeMetrics) {
        for (const m of metrics)
          points += (m.sum ?? m.gauge ?? m.histogram)?.dataPoints.length ?? 0;
      }
    }
  }
  return points;
}

/** A string attribute's value. */
export function stringAttribute(attributes: OtlpAttribute[] | undefined, key: string) {
  return attributes?.find((a) => a.key === key)?.value.stringValue;
}

/** Every metric of a push, whatever its scope (none when there was no push). */
export function metricsOf(push: OtlpMetricsRequest | undefined): OtlpMetric[] {
  return (push?.resourceMetrics ?? []).flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
}

/** The data point of histogram `name` whose `key` attribute is `value`, in a push. */
export function histogramPoint(
  push: OtlpMetricsRequest | undefined,
  name: string,
  key: string,
  value: string,
): OtlpHistogramPoint | undefined {
  const metric = metricsOf(push).find((m) => m.name === name);
  return metric?.histogram?.dataPoints.find((p) => stringAttribute(p.attributes, key) === value);
}

/**
 * The total of sum `name`'s points that `where` keeps (all by default); undefined when no sum
 * of that name was pushed.
 */
export function sumOf(
  metrics: readonly OtlpMetric[],
  name: string,
  where: (point: OtlpNumberPoint) => boolean = () => true,
): number | undefined {
  const points = metrics.find((m) => m.name === name)?.sum?.dataPoints;
  return points?.filter(where).reduce((total, p) => total + Number(p.asDouble ?? p.asInt ?? 0), 0);
}
