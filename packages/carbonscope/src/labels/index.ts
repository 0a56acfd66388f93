export { AttributeCache } from './attribute-cache.js';
export {
  BoundedLabelSet,
  type BoundedLabelSetOptions,
  OVERFLOW_LABEL,
} from './bounded-label-set.js';
