export {
  type ActivityClassifier,
  ModelNotLoadedError,
  OnnxActivityClassifier,
  type Prediction,
} from './classifier.js';
export { LABELS } from './labels.js';
