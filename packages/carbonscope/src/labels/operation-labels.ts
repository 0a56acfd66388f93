import { BoundedLabelSet, type BoundedLabelSetOptions } from './bounded-label-set.js';

/**
 * Operation names kept by default (ENERGY_OPERATION_MAX_NAMES) over the process's life; beyond
 * them, and past MAX_OPERATION_LENGTH, a name is `other`. Route templates and track() names come
 * from code, and a real service has 100 to 400 templates: 64 once left most of a 300-route app's
 * requests `other` for good. A name built from input must still not grow the series (about 70
 * lines of a scrape each, ~10 KB) or any per-operation table without bound.
 */
export const DEFAULT_MAX_OPERATION_NAMES = 512;
/**
 * The most the setting takes. An application's OTel SDK keeps 2,000 attribute sets per metric
 * by default (its cardinalityLimit), then folds every new one into `otel.metric.overflow` without
 * a word; carbonscope.operation.emissions takes up to three per name (usage measured and
 * estimated, embodied), `other` included: (600 + 1) × 3 = 1,803 stays within it.
 */
export const MAX_OPERATION_NAMES_LIMIT = 600;
/**
 * @deprecated The label kept a fixed 64 names; it keeps ENERGY_OPERATION_MAX_NAMES now, and this
 * is its default, DEFAULT_MAX_OPERATION_NAMES (both exported from the package).
 */
export const MAX_OPERATIONS = DEFAULT_MAX_OPERATION_NAMES;
export const MAX_OPERATION_LENGTH = 100;

/** A set of operation names bounded as above, `capacity` names (the default's when absent). */
export function operationLabels(
  capacity = DEFAULT_MAX_OPERATION_NAMES,
  onRefused?: BoundedLabelSetOptions['onRefused'],
): BoundedLabelSet {
  return new BoundedLabelSet({
    capacity,
    maxLength: MAX_OPERATION_LENGTH,
    ...(onRefused ? { onRefused } : {}),
  });
}
