import { context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';

/**
 * The key of @opentelemetry/core's suppressTracing, which its Tracer and propagators check
 * (isTracingSuppressed): createContextKey is Symbol.for, so the same description is the same
 * key, without depending on core.
 */
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * No request's context, with tracing suppressed: a read carbonscope makes on its own timer
 * belongs to no trace. Under the app's fetch instrumentation each one was a root span (one a
 * second at the default sample, the URL's query in `url.full`), or a child of the request that
 * happened to start the timer.
 */
const UNTRACED = ROOT_CONTEXT.setValue(SUPPRESS_TRACING, true);

/**
 * Runs `fn` so that the spans of what it starts are not recorded and no trace headers are sent,
 * as the OTel SDK's own exporters run their requests. Only for carbonscope's background work:
 * what a request asks for belongs in its trace.
 */
export function untraced<T>(fn: () => T): T {
  return context.with(UNTRACED, fn);
}

/**
 * Runs `fn` in no request's context, tracing left on: a timer `fn` starts keeps the context it
 * was made in, and one made while a request was handled ran each later tick as part of that
 * request (the app's listeners, their fetches children of a span long ended).
 */
export function detached<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}
