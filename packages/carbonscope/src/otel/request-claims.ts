import type { Span } from '@opentelemetry/api';

/**
 * Marks the end() a RequestSpan sets on the span it holds: a property of carbonscope's own
 * function, so nothing is added to the SDK's span beyond the `end` the hold sets there anyway.
 */
const HOLDS: unique symbol = Symbol('carbonscope.holdsSpan');

/**
 * The end() a request holding its span sets there, marked with whether the end() it set aside
 * was the span's own property (another library's: Sentry sets one on each span) or its class's.
 */
type HeldEnd = Span['end'] & { [HOLDS]?: boolean };

export function markHeld(overOwnEnd: boolean, end: HeldEnd): HeldEnd {
  end[HOLDS] = overOwnEnd;
  return end;
}

/**
 * Whether `span`'s end() is a property of its own, as the span was before a request held it:
 * the release reads it to choose the form of an end time (span-end-time.ts).
 */
export function hasOwnEnd(span: Span): boolean {
  return (span.end as HeldEnd | undefined)?.[HOLDS] ?? Object.hasOwn(span, 'end');
}

/**
 * Spans whose request settled while they still ran (an HTTP/2 batch answered in one span, a
 * server listening inside one): weak, a span is let go with its request. Any other span a
 * request's figures go on is told by its held end(), there from the capture until the release
 * ends the span for real, after which the span records nothing and is not captured. The set's
 * `add` was the dearest step of a traced request's capture (0.6 µs and more, stop 80); asked for
 * these few alone, the capture read ~0.7-1.0 µs lower a request, its settlement ~0.1-0.2
 * (test/bench/OVERHEAD.md, stop 81). A symbol-keyed mark on the span was ruled out (the span is
 * the SDK's object, given to its processors and exporters); the held end() is set there anyway,
 * and goes before the SDK's end() runs. Another library's wrapper set over the held end() hides
 * the mark: a second request in that span while the first runs is captured too (stop 81), and
 * claimRunning, at its settlement, tells it the span has the first's figures (stop 83).
 */
const claimed = new WeakSet<object>();
/** Whether `claimed` was ever given a span: until then a capture does not ask it. */
let anyClaimed = false;

/**
 * Claims `span` for the request settling in it; false where an earlier one had (the second of
 * two requests captured in a span whose held end() another wrapper hid): its figures stay.
 */
export function claimRunning(span: Span): boolean {
  if (anyClaimed && claimed.has(span)) return false;
  claimed.add(span);
  anyClaimed = true;
  return true;
}

/** Whether a request's figures already go on `span` (one request per span). */
export function isClaimed(span: Span): boolean {
  // `?.`: a span of another implementation may have no end(); asking the set never threw.
  return (
    (span.end as HeldEnd | undefined)?.[HOLDS] !== undefined || (anyClaimed && claimed.has(span))
  );
}
