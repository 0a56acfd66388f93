export { AttributeCache } from './attribute-cache.js';
export {
  AttributeSets,
  type AttributeSetsOptions,
  MAX_ATTRIBUTE_KEYS,
  type OperationAttributes,
} from './attribute-sets.js';
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
