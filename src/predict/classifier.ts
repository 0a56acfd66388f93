import { readFile } from 'node:fs/promises';
import type { Attributes, Meter } from '@opentelemetry/api';
import type { LocalHistograms, OperationFootprint, OperationTracker, Recorder } from 'carbonscope';
import { createInstrument, histogramOf } from 'carbonscope';
// Before onnxruntime-node: its telemetry is decided when it starts (see the module).
import './ort-telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { type ShownSci, shownSci } from '../footprint.js';
import { APP_METRICS } from '../metrics.js';
import { sourceAsset } from '../paths.js';
import { argmax } from './argmax.js';
import { LABELS, type Label } from './labels.js';
import { MODEL_FILE, MODEL_NAME, modelVersion, ONNX_INPUT, ONNX_OUTPUT } from './model-info.js';
import { encodeInto, hasFeatures, TOKENIZER } from './tokenizer.js';

export const INFERENCE_OPERATION = 'inference';

export interface Prediction {
  label: Label;
  probabilities: Record<Label, number>;
  /** Wall time of featurisation plus the ONNX run, in milliseconds. */
  durationMs: number;
  /** The inference's share of the process's energy, from the operation tracker. */
  energyJoules: number;
  /** E × I: the operational emissions of that energy. */
  emissionsGrams: number;
  /** M: its share of the process's embodied emissions (always estimated). */
  embodiedGrams: number;
  /** The SCI of one inference (R = 1) with its parts; unknown where a part is no figure. */
  sci: ShownSci;
  /** True when that energy comes from a CPU power model rather than a power meter. */
  energyEstimated: boolean;
  /**
   * True while the sample interval the inference ended in is not measured yet: the figure is
   * then priced at the previous interval's rate (operation_energy_joules gets the settled one).
   */
  energyProvisional: boolean;
}

/** What the /predict route needs. */
export interface ActivityClassifier {
  /** `name@version`; the version is a hash of the model file. Empty until loaded. */
  readonly model: string;
  classify(activity: string): Promise<Prediction>;
}

/** The text has no word or number the tokenizer can use, so there is nothing to classify. */
export class NoFeaturesError extends Error {
  readonly status = 400;
  readonly expose = true;
  constructor() {
    super('activity contains no words or numbers to classify');
    this.name = 'NoFeaturesError';
  }
}

/** Asked before load() finished; the caller may retry shortly (503 on HTTP). */
export class ModelNotLoadedError extends Error {
  readonly status = 503;
  readonly expose = true;
  constructor() {
    super('the model is not loaded yet; retry in a moment');
    this.name = 'ModelNotLoadedError';
  }
}

export interface OnnxClassifierOptions {
  tracker: OperationTracker;
  meter: Meter;
  /** Where the inference duration histogram is kept (the SDK's when absent). */
  histograms?: LocalHistograms;
  /** The .onnx file; the committed model by default. */
  modelPath?: string;
}

/** A feature buffer with the tensor that wraps it, reused across requests. */
interface Slot {
  features: Float32Array;
  feeds: Record<string, ort.Tensor>;
}

/**
 * The activity classifier: one onnxruntime-node session for the life of the process, fed by
 * the same tokenizer training used.
 *
 * onnxruntime-node reads the input tensor when the run starts, on a later turn of the event
 * loop; two requests sharing one buffer could read each other's features. So each run takes a
 * buffer from a free list and gives it back when done: no per-request allocation once the pool
 * has grown to the peak concurrency.
 */
export class OnnxActivityClassifier implements ActivityClassifier {
  private session: ort.InferenceSession | undefined;
  private loading: Promise<void> | undefined;
  private version = '';
  private readonly free: Slot[] = [];
  private readonly durationOf: (attributes: Attributes) => Recorder;
  private recordDuration: Recorder = () => {};
  private readonly modelPath: string;
  /** Predictions by label (LABELS' order) and their attributes, read at collection. */
  private readonly predicted = new Float64Array(LABELS.length);
  private labelAttributes: Attributes[] = [];

  constructor(private readonly options: OnnxClassifierOptions) {
    this.modelPath = options.modelPath ?? sourceAsset('predict', 'model', MODEL_FILE);
    this.durationOf = histogramOf(options.meter, APP_METRICS.inferenceDuration, options.histograms);
    createInstrument(options.meter, APP_METRICS.predictions).addCallback((result) => {
      this.labelAttributes.forEach((attributes, i) => {
        if (this.predicted[i] > 0) result.observe(this.predicted[i], attributes);
      });
    });
  }

  get model(): string {
    return this.version ? `${MODEL_NAME}@${this.version}` : '';
  }

  /** Creates the session once; safe to call again (returns the same promise). */
  load(): Promise<void> {
    this.loading ??= this.createSession();
    return this.loading;
  }

  private async createSession(): Promise<void> {
    const bytes = await readFile(this.modelPath);
    const session = await ort.InferenceSession.create(bytes, {
      // One request is one tiny matrix product: threads would cost more than they save, and the
      // service's other requests need the cores.
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    checkSignature(session, this.modelPath);
    this.session = session;
    this.version = modelVersion(bytes);
    this.recordDuration = this.durationOf({ 'carbonscope.model': this.model });
    this.labelAttributes = LABELS.map((label) => ({
      'carbonscope.model': this.model,
      'carbonscope.prediction.label': label,
    }));
  }

  async classify(activity: string): Promise<Prediction> {
    const session = this.session;
    if (!session) throw new ModelNotLoadedError();
    // Before the operation begins: a refused text runs no inference, and counted as one it would
    // let any client inflate the inference count and dilute the energy per inference.
    if (!hasFeatures(activity)) throw new NoFeaturesError();
    const slot = this.free.pop() ?? newSlot();
    const operation = this.options.tracker.begin(INFERENCE_OPERATION);
    const start = process.hrtime.bigint();
    let output: Float32Array;
    let seconds: number;
    let footprint: OperationFootprint;
    try {
      encodeInto(activity, slot.features);
      // run(): the CPU of the ONNX call is the inference's, not its request's.
      const result = await operation.run(() => session.run(slot.feeds));
      output = result[ONNX_OUTPUT].data as Float32Array;
    } finally {
      seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.free.push(slot);
      footprint = operation.end();
    }
    const probabilities = {} as Record<Label, number>;
    LABELS.forEach((label, i) => {
      probabilities[label] = output[i];
    });
    const best = argmax(output);
    const label = LABELS[best];
    this.recordDuration(seconds);
    this.predicted[best]++;
    return {
      label,
      probabilities,
      durationMs: seconds * 1000,
      energyJoules: footprint.joules,
      emissionsGrams: footprint.grams,
      embodiedGrams: footprint.embodiedGrams,
      sci: shownSci(footprint),
      energyEstimated: footprint.estimated,
      energyProvisional: footprint.provisional,
    };
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }
}

function newSlot(): Slot {
  const features = new Float32Array(TOKENIZER.vocabSize);
  return {
    features,
    feeds: { [ONNX_INPUT]: new ort.Tensor('float32', features, [1, TOKENIZER.vocabSize]) },
  };
}

/** A model trained with another tokenizer or label set would give confident nonsense: refuse it. */
function checkSignature(session: ort.InferenceSession, path: string): void {
  const input = session.inputMetadata.find((m) => m.name === ONNX_INPUT);
  const output = session.outputMetadata.find((m) => m.name === ONNX_OUTPUT);
  const width = (m: typeof input) => (m?.isTensor ? m.shape[1] : undefined);
  if (width(input) !== TOKENIZER.vocabSize || width(output) !== LABELS.length) {
    throw new Error(
      `${path}: expected input "${ONNX_INPUT}" [batch, ${TOKENIZER.vocabSize}] and output ` +
        `"${ONNX_OUTPUT}" [batch, ${LABELS.length}]; retrain with npm run train`,
    );
  }
}
