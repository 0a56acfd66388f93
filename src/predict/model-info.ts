import { createHash } from 'node:crypto';

/**
 * Names shared by the exporter, the training script and the classifier. Kept apart from the
 * exporter so the service never loads protobufjs (a dev dependency, needed only to write models).
 */
export const MODEL_NAME = 'activity-mlp';
export const MODEL_FILE = `${MODEL_NAME}.onnx`;
export const CARD_JSON = 'model-card.json';
export const CARD_MARKDOWN = 'MODEL_CARD.md';

/** The graph's input ([batch, vocab] float features) and output ([batch, labels] probabilities). */
export const ONNX_INPUT = 'features';
export const ONNX_OUTPUT = 'probabilities';

/** Short content hash: the model's version, so a retrained model is a new series in metrics. */
export function modelVersion(onnx: Uint8Array): string {
  return createHash('sha256').update(onnx).digest('hex').slice(0, 12);
}
