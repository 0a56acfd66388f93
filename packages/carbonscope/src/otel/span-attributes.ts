import type { Span } from '@opentelemetry/api';
import type { LentFigures } from '../energy/index.js';

/** Span attributes an operation's figures land in. */
export const SPAN_ATTRIBUTES = {
  energy: 'carbonscope.energy_joules',
  emissions: 'carbonscope.emissions_grams',
  /** SCI's M: the operation's share of the process's embodied emissions (an estimate). */
  embodied: 'carbonscope.embodied_grams',
  estimated: 'carbonscope.estimated',
  /** Set (true) only when the figure could not be settled: the meter stopped first. */
  provisional: 'carbonscope.provisional',
} as const;

/** Sets the footprint's figures on `span` (a footprint, or the figures lent for one). */
export function annotateSpan(span: Span, footprint: LentFigures): void {
  span.setAttribute(SPAN_ATTRIBUTES.energy, footprint.joules);
  span.setAttribute(SPAN_ATTRIBUTES.emissions, footprint.grams);
  span.setAttribute(SPAN_ATTRIBUTES.embodied, footprint.embodiedGrams);
  span.setAttribute(SPAN_ATTRIBUTES.estimated, footprint.estimated);
  if (footprint.provisional) span.setAttribute(SPAN_ATTRIBUTES.provisional, true);
  // The application's own (setAttributes()), bounded as the series that carry them are.
  if (footprint.attributes) span.setAttributes(footprint.attributes);
}
