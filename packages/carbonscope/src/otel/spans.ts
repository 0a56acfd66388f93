import { type Span, trace } from '@opentelemetry/api';
import type { OperationFootprint } from '../energy/index.js';

/** Span attributes an operation's figures land in. */
export const SPAN_ATTRIBUTES = {
  energy: 'carbonscope.energy_joules',
  emissions: 'carbonscope.emissions_grams',
  estimated: 'carbonscope.estimated',
} as const;

/** The span active when an operation begins; the tracker carries it to the operation's end. */
export function activeSpan(): unknown {
  return trace.getActiveSpan();
}

function isSpan(value: unknown): value is Span {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Span).isRecording === 'function' &&
    typeof (value as Span).setAttribute === 'function'
  );
}

/** Sets the operation's figures on the span it began under, if that span still records. */
export function annotateSpan(footprint: OperationFootprint): void {
  const span = footprint.context;
  if (!isSpan(span) || !span.isRecording()) return;
  span.setAttribute(SPAN_ATTRIBUTES.energy, footprint.joules);
  span.setAttribute(SPAN_ATTRIBUTES.emissions, footprint.grams);
  span.setAttribute(SPAN_ATTRIBUTES.estimated, footprint.estimated);
}
