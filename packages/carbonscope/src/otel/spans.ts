import { SpanKind, trace } from '@opentelemetry/api';
import type { OperationContext, OperationKind } from '../energy/index.js';
import { VERSION } from '../version.js';
import { SCOPE_NAME } from './attach.js';
import { OperationSpan } from './operation-span.js';
import { RequestSpan } from './request-span.js';

export { annotateSpan, SPAN_ATTRIBUTES } from './span-attributes.js';

/**
 * The tracker's captureContext for OpenTelemetry: where a recording span is active, a request's
 * figures go on that span (the server span its handler runs in), and any other operation gets a
 * span of its own, a child of the active one, so an inner operation (an inference inside a
 * request) never overwrites its request's figures. Both spans are ended once the operation is
 * settled, at their own end times. With no recording span active it costs one lookup.
 */
export function captureSpan(operation: string, kind: OperationKind): OperationContext | undefined {
  const active = trace.getActiveSpan();
  if (!active?.isRecording()) return undefined;
  if (kind === 'request') return new RequestSpan(active);
  // Asked each time: the global provider may have changed (a test, an SDK started late).
  const tracer = trace.getTracer(SCOPE_NAME, VERSION);
  return new OperationSpan(tracer.startSpan(operation, { kind: SpanKind.INTERNAL }));
}
