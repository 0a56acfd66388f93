export { AttributeCache } from './attribute-cache.js';
export {
  BoundedLabelSet,
  type BoundedLabelSetOptions,
  OVERFLOW_LABEL,
} from './bounded-label-set.js';
export { MAX_OPERATION_LENGTH, MAX_OPERATIONS, operationLabels } from './operation-labels.js';
