import { performance } from 'node:perf_hooks';
import type { Span, TimeInput } from '@opentelemetry/api';
import type { OperationContext, OperationFootprint } from '../energy/index.js';
import { annotateSpan } from './span-attributes.js';
import type { SpanRelease } from './span-release.js';

/**
 * A request's server span, held open until the request's energy is settled. The HTTP
 * instrumentation ends it when the response closes, up to one sample interval before the
 * figure exists; so its end() is deferred: the time of that call is kept, and at settlement the
 * figures are set and the span is handed to `release` to end, at that time. Nothing else about
 * the span changes.
 */
export class RequestSpan implements OperationContext {
  private readonly end: Span['end'];
  private readonly ownEnd: boolean;
  private endedAt: TimeInput | undefined;
  /** When end() was called (performance.now()), whatever time it was given. */
  private endCalledMs = 0;
  private settled = false;

  constructor(
    private readonly span: Span,
    private readonly release: SpanRelease,
  ) {
    this.ownEnd = Object.hasOwn(span, 'end');
    this.end = span.end;
    span.end = (endTime?: TimeInput) => {
      if (this.settled) return this.end.call(span, endTime);
      if (this.endedAt !== undefined) return;
      this.endCalledMs = performance.now();
      // A performance.now() figure: the SDK reads it against the span's own clock.
      this.endedAt = endTime ?? this.endCalledMs;
    };
  }

  settle(footprint: OperationFootprint): void {
    if (this.settled) return;
    this.settled = true;
    if (this.ownEnd) this.span.end = this.end;
    else Reflect.deleteProperty(this.span, 'end');
    annotateSpan(this.span, footprint);
    if (this.endedAt !== undefined) this.release.end(this.span, this.endedAt, this.endCalledMs);
  }
}
