import type { Attributes } from '@opentelemetry/api';

/**
 * One string per attribute set, whatever the order its keys were written in: a series bound
 * again, or pushed before, is found by its set however the caller wrote it.
 */
export function attributesKey(attributes: Attributes): string {
  return JSON.stringify(
    Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
