import { BoundedLabelSet } from './bounded-label-set.js';

/**
 * Operation names beyond this many (over the process's life) share `other`, as do names longer
 * than MAX_OPERATION_LENGTH: route templates and track() names come from code, but a name built
 * from input must not grow the series (or any per-operation table) without bound.
 */
export const MAX_OPERATIONS = 64;
export const MAX_OPERATION_LENGTH = 100;

/** A set of operation names bounded as above. */
export function operationLabels(): BoundedLabelSet {
  return new BoundedLabelSet({ capacity: MAX_OPERATIONS, maxLength: MAX_OPERATION_LENGTH });
}
