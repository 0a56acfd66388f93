export { AttributeCache } from './attribute-cache.js';
export {
  BoundedLabelSet,
  type BoundedLabelSetOptions,
  OVERFLOW_LABEL,
  type RefusalReason,
} from './bounded-label-set.js';
export {
  DEFAULT_MAX_OPERATION_NAMES,
  MAX_OPERATION_LENGTH,
  MAX_OPERATION_NAMES_LIMIT,
  MAX_OPERATIONS,
  operationLabels,
} from './operation-labels.js';
