import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABELS } from '../../src/predict/labels.js';
import {
  CARD_JSON,
  CARD_MARKDOWN,
  MODEL_FILE,
  MODEL_NAME,
  modelVersion,
} from '../../src/predict/model-info.js';
import { encodeSparse, TOKENIZER } from '../../src/predict/tokenizer.js';
import type { Example } from './dataset.js';
import {
  compareRows,
  type Evaluation,
  evaluate,
  mlpProbabilities,
  onnxProbabilities,
} from './evaluate.js';
import type { Mlp } from './network.js';
import { mlpToOnnx } from './onnx-export.js';
import { DEFAULT_TRAINING, type TrainingOptions, trainMlp } from './training.js';

export const DEFAULT_HIDDEN = 16;

export interface TrainModelOptions {
  hidden: number;
  training: Omit<TrainingOptions, 'shape'>;
}

export const DEFAULT_MODEL_OPTIONS: TrainModelOptions = {
  hidden: DEFAULT_HIDDEN,
  training: DEFAULT_TRAINING,
};

export interface TrainedModel {
  mlp: Mlp;
  onnx: Uint8Array;
  options: TrainModelOptions;
  finalLoss: number;
}

/** Trains on `train` and exports the result to ONNX bytes. */
export async function trainModel(
  train: readonly Example[],
  options: TrainModelOptions = DEFAULT_MODEL_OPTIONS,
): Promise<TrainedModel> {
  const scratch = new Float32Array(TOKENIZER.vocabSize);
  const examples = train.map((e) => ({
    x: encodeSparse(e.text, scratch),
    y: LABELS.indexOf(e.label),
  }));
  let finalLoss = Number.NaN;
  const mlp = await trainMlp(examples, {
    ...options.training,
    shape: { inputs: TOKENIZER.vocabSize, hidden: options.hidden, outputs: LABELS.length },
    onEpoch: (epoch, loss) => {
      finalLoss = loss;
      options.training.onEpoch?.(epoch, loss);
    },
  });
  const onnx = mlpToOnnx(mlp, {
    name: MODEL_NAME,
    description:
      'Carbon intensity class (low/middle/high) of an activity described in English. ' +
      'Input: hashed feature vector from carbonscope src/predict/tokenizer.ts.',
    properties: {
      tokenizer: TOKENIZER.id,
      vocab_size: String(TOKENIZER.vocabSize),
      labels: JSON.stringify(LABELS),
    },
  });
  return { mlp, onnx, options, finalLoss };
}

export interface ModelEvaluation {
  /** The exported ONNX model run by onnxruntime-node: the artefact that ships. */
  onnx: Evaluation;
  /** The training code's forward pass. */
  training: Evaluation;
  labelMismatches: number;
  maxProbabilityDifference: number;
}

export async function evaluateModel(
  model: TrainedModel,
  test: readonly Example[],
): Promise<ModelEvaluation> {
  const ours = mlpProbabilities(model.mlp, test);
  const theirs = await onnxProbabilities(model.onnx, test);
  return {
    onnx: evaluate(test, theirs),
    training: evaluate(test, ours),
    ...compareRows(ours, theirs),
  };
}

/** What training cost; energy and emissions only when a meter measured them. */
export interface TrainingFootprint {
  durationSeconds: number;
  energyJoules: number | null;
  emissionsGrams: number | null;
  /** True when the process energy came from a model of the CPU rather than a power meter. */
  estimated: boolean | null;
  /** How the numbers were obtained (source name, or why energy is missing). */
  method: string;
}

export interface ModelCard {
  name: string;
  version: string;
  file: string;
  sha256: string;
  sizeBytes: number;
  parameters: number;
  architecture: string;
  labels: readonly string[];
  tokenizer: typeof TOKENIZER;
  data: {
    rule: string;
    train: number;
    test: number;
    generator: Record<string, unknown>;
  };
  training: { hidden: number; finalLoss: number } & Record<string, unknown>;
  evaluation: {
    split: string;
    accuracy: number;
    perLabel: Record<string, number>;
    confusion: Record<string, Record<string, number>>;
    trainingForwardAccuracy: number;
    onnxVsTrainingLabelMismatches: number;
    onnxVsTrainingMaxProbabilityDifference: number;
  };
  footprint: TrainingFootprint;
}

export function buildCard(
  model: TrainedModel,
  evaluation: ModelEvaluation,
  footprint: TrainingFootprint,
  data: { train: number; test: number; generator: Record<string, unknown> },
): ModelCard {
  const { hidden, ...training } = { hidden: model.options.hidden, ...model.options.training };
  const round = (x: number) => Number(x.toFixed(6));
  return {
    name: MODEL_NAME,
    version: modelVersion(model.onnx),
    file: MODEL_FILE,
    sha256: createHash('sha256').update(model.onnx).digest('hex'),
    sizeBytes: model.onnx.byteLength,
    parameters: model.mlp.parameterCount,
    architecture: `hashed features [${TOKENIZER.vocabSize}] -> Gemm ${hidden} -> ReLU -> Gemm ${LABELS.length} -> Softmax`,
    labels: LABELS,
    tokenizer: TOKENIZER,
    data: {
      rule: 'tools/predict/activities.ts (kgCO2e = quantity x unit x factor; low < 1 <= middle < 10 <= high)',
      ...data,
    },
    training: { hidden, ...stripFunctions(training), finalLoss: round(model.finalLoss) },
    evaluation: {
      split: 'tools/predict/data/test.jsonl',
      accuracy: round(evaluation.onnx.accuracy),
      perLabel: mapValues(evaluation.onnx.perLabel, round),
      confusion: evaluation.onnx.confusion,
      trainingForwardAccuracy: round(evaluation.training.accuracy),
      onnxVsTrainingLabelMismatches: evaluation.labelMismatches,
      onnxVsTrainingMaxProbabilityDifference: evaluation.maxProbabilityDifference,
    },
    footprint,
  };
}

function stripFunctions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function'));
}

function mapValues(o: Record<string, number>, f: (x: number) => number): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

export function cardMarkdown(card: ModelCard): string {
  const f = card.footprint;
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const energy =
    f.energyJoules === null
      ? `not measured (${f.method})`
      : `${f.energyJoules.toFixed(3)} J${f.estimated ? ' (estimated from a CPU power model)' : ''}`;
  const emissions =
    f.emissionsGrams === null ? 'not measured' : `${f.emissionsGrams.toFixed(6)} gCO2e`;
  const rows = card.labels
    .map((l) => `| ${l} | ${card.labels.map((p) => card.evaluation.confusion[l][p]).join(' | ')} |`)
    .join('\n');
  return `# Model card: ${card.name} (${card.version})

Generated by \`npm run train\` (tools/predict/train.ts); do not edit by hand.

- **Task**: classify an English activity ("driving 10 hours", "cycling to work") as ${card.labels.join(' / ')} carbon intensity.
- **Architecture**: ${card.architecture} (${card.parameters} parameters).
- **File**: \`${card.file}\`, ${card.sizeBytes} bytes, sha256 \`${card.sha256}\`.
- **Tokenizer**: \`${card.tokenizer.id}\` (src/predict/tokenizer.ts, shared by training and inference).

## Data

Generated by the project, not collected: ${card.data.rule}.
${card.data.train} training and ${card.data.test} test activities (tools/predict/data/), balanced
across labels, split with a seeded generator. The emission factors are illustrative orders of
magnitude, so the model learns a teaching rule, not a carbon inventory.

## Evaluation (test split, ONNX model run by onnxruntime-node)

Accuracy **${pct(card.evaluation.accuracy)}**; per label: ${card.labels.map((l) => `${l} ${pct(card.evaluation.perLabel[l])}`).join(', ')}.
The training code's own forward pass: ${pct(card.evaluation.trainingForwardAccuracy)}; label mismatches with ONNX: ${card.evaluation.onnxVsTrainingLabelMismatches}; largest probability difference: ${card.evaluation.onnxVsTrainingMaxProbabilityDifference.toExponential(2)}.

| true \\ predicted | ${card.labels.join(' | ')} |
|---|${card.labels.map(() => '---|').join('')}
${rows}

## Training footprint

- Duration: ${f.durationSeconds.toFixed(3)} s
- Energy (process share): ${energy}
- Emissions: ${emissions}
- Method: ${f.method}
`;
}

/** Writes the model, its JSON card and its Markdown card into `dir`. */
export function writeModel(dir: string, model: TrainedModel, card: ModelCard): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MODEL_FILE), model.onnx);
  writeFileSync(join(dir, CARD_JSON), `${JSON.stringify(card, null, 2)}\n`);
  writeFileSync(join(dir, CARD_MARKDOWN), cardMarkdown(card));
}
