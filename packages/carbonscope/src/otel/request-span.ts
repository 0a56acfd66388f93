import type { Span, TimeInput } from '@opentelemetry/api';
import {
  type LentFigures,
  monotonicClock,
  type OperationContext,
  type OperationFootprint,
} from '../energy/index.js';
import { claimRunning, markHeld } from './request-claims.js';
import { annotateSpan } from './span-attributes.js';
import type { SpanRelease } from './span-release.js';

/**
 * A request's server span, held open until the request's energy is settled. The HTTP
 * instrumentation ends it when the response closes, up to one sample interval before the
 * figure exists; so its end() is deferred: the time of that call is kept, and at settlement the
 * figures are set and the span is handed to `release` to end, at that time. Nothing else about
 * the span changes. The deferred end() stays until the span is ended for real, and marks it as
 * claimed meanwhile (isClaimed): one request per span.
 */
export class RequestSpan implements OperationContext {
  private readonly end: Span['end'];
  private readonly ownEnd: boolean;
  /** The end() set on the span while this request holds it (marked: isClaimed). */
  private readonly heldEnd: Span['end'];
  private ended = false;
  /** The time the instrumentation gave end(), if any. */
  private givenEnd: TimeInput | undefined;
  /**
   * When end() was called, on performance.now()'s scale (the SDK reads it against the span's
   * own clock), through the tracker's clock: it skips performance.now()'s per-call brand check.
   */
  private endCalledMs = 0;
  private settled = false;

  constructor(
    private readonly span: Span,
    private readonly release: SpanRelease,
  ) {
    this.ownEnd = Object.hasOwn(span, 'end');
    this.end = span.end;
    this.heldEnd = markHeld(this.ownEnd, (endTime?: TimeInput) => {
      if (this.settled) return this.endNow(endTime);
      if (this.ended) return;
      this.ended = true;
      this.endCalledMs = monotonicClock();
      this.givenEnd = endTime;
    });
    span.end = this.heldEnd;
  }

  settle(footprint: OperationFootprint): void {
    this.settleLent(footprint);
  }

  /** The figures alone, read in the call: the tracker builds no footprint for a request's span. */
  settleLent(footprint: LentFigures): void {
    if (this.settled) return;
    this.settled = true;
    const { span } = this;
    if (!this.ended) {
      // Still running (an HTTP/2 batch's span, a server's inside one): its end() is its own
      // again, and the weak set tells the requests after this one that it is claimed.
      this.restoreEnd();
      if (claimRunning(span)) annotateSpan(span, footprint);
      return;
    }
    if (span.end !== this.heldEnd) {
      // Another wrapper set over the held end() since the capture (a second instrumentation's)
      // hides the mark, and the release's end() would run it a second time, with epoch ms: the
      // span's end() is put back now, as before the mark was kept, and the weak set claims it.
      this.restoreEnd();
      if (claimRunning(span)) annotateSpan(span, footprint);
    } else annotateSpan(span, footprint);
    // Held until the release ends it for real (now, or paced: most of a busy interval's).
    const { givenEnd, endCalledMs } = this;
    this.release.end(span, givenEnd ?? endCalledMs, endCalledMs, givenEnd === undefined);
  }

  /** Ends the span for real (the release, or a later end()): as it was, with nothing of ours. */
  private endNow(endTime?: TimeInput): void {
    this.restoreEnd();
    this.end.call(this.span, endTime);
  }

  private restoreEnd(): void {
    if (this.ownEnd) this.span.end = this.end;
    else Reflect.deleteProperty(this.span, 'end');
  }
}
