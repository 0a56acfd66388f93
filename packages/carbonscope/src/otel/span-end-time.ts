import { performance } from 'node:perf_hooks';
import type { Span, TimeInput } from '@opentelemetry/api';
import { hasOwnEnd } from './request-claims.js';

/**
 * The end time to give `span` for carbonscope's own reading of performance.now() (when the
 * instrumentation called end(), or when an operation ended). The API lets a number be either
 * that or milliseconds since 1970, and implementations read it their own way. The SDK's spans
 * read a number no later than their performance.now() on that clock, shifted by the wall clock's
 * difference at their start (which keeps a duration right when the wall clock steps): such a span
 * gets the reading as it is. Any other gets milliseconds since 1970, the one number every reading
 * agrees on: @sentry/node 10 reads a number below 1e10 as seconds, on its own spans and through
 * the end() it sets on each span its startSpan makes (its HTTP server spans too), SDK spans under
 * its `openTelemetryBasicTracerProvider` included: a request that ended 5 s after start-up ended
 * in 1970 (or, on the SDK's spans, before it began). Sentry 9's spans are the SDK's, unwrapped.
 * Epoch ms is Sentry's own clock (timeOrigin + performance.now()); an SDK span whose end() is
 * wrapped started on Date.now(), so it is off by how far the two clocks drifted apart since
 * start-up (nothing, unless the wall clock stepped): no TimeInput keeps the SDK's correction but
 * its own performance time, so no one input is right for every span.
 */
export function endTimeFor(span: Span, performanceMs: number): TimeInput {
  return readsPerformanceTime(span) ? performanceMs : performance.timeOrigin + performanceMs;
}

/**
 * The SDK's own Span: a ReadableSpan (its startTime an HrTime) whose end() nobody replaced (a
 * request holding it replaced it for a while, and is looked through).
 */
function readsPerformanceTime(span: Span): boolean {
  return !hasOwnEnd(span) && Array.isArray((span as { startTime?: unknown }).startTime);
}
