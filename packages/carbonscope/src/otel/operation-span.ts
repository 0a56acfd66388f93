import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import type { OperationContext, OperationFootprint } from '../energy/index.js';
import { annotateSpan } from './span-attributes.js';
import { endTimeFor } from './span-end-time.js';
import { markFailed } from './span-failure.js';
import type { SpanRelease } from './span-release.js';

/**
 * The span of one tracked operation (not a request): started when it begins, ended when its
 * energy is settled (by `release`), at the time the operation ended, with its figures.
 */
export class OperationSpan implements OperationContext {
  private readonly startedAt = performance.now();

  constructor(
    private readonly span: Span,
    private readonly release: SpanRelease,
  ) {}

  fail(error: unknown, secrets: readonly string[]): void {
    markFailed(this.span, error, secrets);
  }

  settle(footprint: OperationFootprint): void {
    annotateSpan(this.span, footprint);
    // A performance.now() figure, read against the span's clock (never in the future).
    const endedAt = Math.min(this.startedAt + footprint.durationSeconds * 1000, performance.now());
    this.release.end(this.span, endTimeFor(this.span, endedAt), endedAt);
  }
}
