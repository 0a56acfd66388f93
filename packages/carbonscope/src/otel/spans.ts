import { context, createContextKey, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { OperationContext, OperationKind } from '../energy/index.js';
import { ownedRelease, releasedWith } from '../runtime/index.js';
import { messageOf } from '../thrown-text.js';
import { VERSION } from '../version.js';
import { SCOPE_NAME } from './attach.js';
import { startedDefault } from './default.js';
import { OperationSpan } from './operation-span.js';
import { isClaimed } from './request-claims.js';
import { RequestSpan } from './request-span.js';
import { SpanRelease } from './span-release.js';
import { TracerShutdownWatch } from './tracer-shutdown.js';

export { annotateSpan, SPAN_ATTRIBUTES } from './span-attributes.js';

/** Ends the spans of settled operations: one for the process, as the SDK's processors are. */
const held = new SpanRelease();

/**
 * Ends at once every span of a settled operation still paced (see SpanRelease): at stop, before
 * the SDK shuts down. Carbonscope.stop() calls it where captureSpan is its captureContext (see
 * the pairing below), whatever its `releaseContexts`; the registered tracer provider's
 * shutdown() runs it too (settleBeforeTracerShutdown).
 */
export function releaseHeldSpans(): void {
  held.releaseAll();
}

/**
 * Runs as the registered tracer provider's shutdown() begins (NodeSDK's shutdown() before
 * carbonscope's stop(), or without it): the operations ended since the last sample are settled
 * by one, which the meter provider's last collection would take too late for their spans; then
 * every span still paced is ended. The process's Carbonscope (register's, the instrumentation's)
 * is the one whose spans this module holds; one wired by hand has its paced spans ended, its
 * unsettled ones waiting for its stop().
 */
function settleBeforeTracerShutdown(): void {
  const cs = startedDefault();
  try {
    // Another copy of the package may have made it, without this method.
    if (typeof cs?.settleEnded === 'function') cs.settleEnded();
  } catch (err) {
    cs?.logger.warn(`could not settle the last operations for their spans: ${messageOf(err)}`);
  } finally {
    held.releaseAll();
  }
}

const tracerShutdown = new TracerShutdownWatch(settleBeforeTracerShutdown);

const PROBE = createContextKey('carbonscope.contextProbe');
const PROBED = ROOT_CONTEXT.setValue(PROBE, true);

/**
 * Whether a context can be active in this process now: true once a context manager is
 * registered (an SDK started). Without one no span is ever active, so asking for the active
 * span per request would find nothing, at a cost; request tracking asks this instead, once per
 * server and then at each sample until it says yes.
 */
export function contextPropagates(): boolean {
  // By the value, not the object: Sentry's context manager makes the context it runs a function
  // in from the one given (it adds its scopes), and asked for the same object it said no.
  return context.with(PROBED, () => context.active().getValue(PROBE) === true);
}

/**
 * The tracker's captureContext for OpenTelemetry: where a recording span is active, a request's
 * figures go on that span (the server span its handler runs in), and any other operation gets a
 * span of its own, a child of the active one, so an inner operation (an inference inside a
 * request) never overwrites its request's figures. Both spans are ended once the operation is
 * settled, at their own end times. With no recording span active it costs one lookup.
 * Wired by hand into `Carbonscope.create()`, its stop() ends the spans still paced, whatever
 * `releaseContexts` is (none, one of the application's, releaseHeldSpans): paired below.
 */
export function captureSpan(operation: string, kind: OperationKind): OperationContext | undefined {
  const active = trace.getActiveSpan();
  if (!active?.isRecording()) return undefined;
  tracerShutdown.look();
  if (kind === 'request') {
    // One request per span: an HTTP/2 answer is captured where it is sent, and a batch of
    // them sent in one span (or a server listening inside one) had each request set its
    // figures there, the last settled overwriting the others'.
    if (isClaimed(active)) return undefined;
    return new RequestSpan(active, held);
  }
  // Asked each time: the global provider may have changed (a test, an SDK started late).
  const tracer = trace.getTracer(SCOPE_NAME, VERSION);
  return new OperationSpan(tracer.startSpan(operation, { kind: SpanKind.INTERNAL }), held);
}

// Every Carbonscope given captureSpan ends what it paces at its stop(), before the SDK shuts
// down: a hand-wired one with no releaseContexts, or one of its own, left them to their pace.
releasedWith(captureSpan, releaseHeldSpans);
// And ends its own alone, where this copy made it: told whose settlement paced a span (once a
// settlement, not at each capture), its stop() leaves another instance's at their pace.
ownedRelease(captureSpan, {
  settling: (owner) => held.settlingFor(owner),
  release: (owner) => held.releaseOwn(owner),
});
