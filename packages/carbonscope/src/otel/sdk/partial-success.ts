import { BODY_READ } from './refusal-reason.js';
import { protoFields, protoString } from './rpc-status.js';

/**
 * An OTLP partial success: the collector took the push (HTTP 200) but rejected some of its data
 * points, and said why. The OTel exporter tells it only to the diag logger (silent unless
 * OTEL_LOG_LEVEL is set) and counts the push a success.
 */
export interface PartialSuccess {
  readonly rejected: number;
  readonly message: string;
}

/** Where export-deadline puts it on an export's successful result. */
const PARTIAL = Symbol('carbonscope.partialSuccess');

/** `result` with `partial` on it, seen by partialSuccessOf alone. */
export function withPartialSuccess<R>(result: R, partial: PartialSuccess | undefined): R {
  return partial === undefined ? result : { ...result, [PARTIAL]: partial };
}

/** The partial success an export's result carries (withPartialSuccess), if any. */
export function partialSuccessOf(result: unknown): PartialSuccess | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  return (result as { [PARTIAL]?: PartialSuccess })[PARTIAL];
}

/**
 * The partial success of an ExportMetricsServiceResponse body, protobuf (field 1, of
 * rejected_data_points 1 and error_message 2) or JSON (`partialSuccess`, or its proto names);
 * undefined where it rejected nothing or the body is no such response.
 */
export function partialSuccessIn(body: Uint8Array, contentType = ''): PartialSuccess | undefined {
  const head = body.subarray(0, BODY_READ);
  if (head.length === 0) return undefined;
  const partial = contentType.toLowerCase().includes('json') ? fromJson(head) : fromProto(head);
  return partial && partial.rejected > 0 ? partial : undefined;
}

function fromProto(bytes: Uint8Array): PartialSuccess | undefined {
  const inner = protoFields(bytes)?.findLast((f) => f.field === 1)?.bytes;
  const fields = inner && protoFields(inner);
  if (fields === undefined) return undefined;
  const rejected = fields.findLast((f) => f.field === 1)?.varint ?? 0;
  return { rejected, message: protoString(fields, 2) ?? '' };
}

function fromJson(bytes: Uint8Array): PartialSuccess | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  const partial = field(parsed, 'partialSuccess', 'partial_success');
  const rejected = Number(field(partial, 'rejectedDataPoints', 'rejected_data_points') ?? 0);
  const message = field(partial, 'errorMessage', 'error_message');
  if (!Number.isSafeInteger(rejected)) return undefined;
  return { rejected, message: typeof message === 'string' ? message : '' };
}

/** `value`'s property named either way (proto3 JSON takes both). */
function field(value: unknown, camel: string, snake: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  return record[camel] ?? record[snake];
}
