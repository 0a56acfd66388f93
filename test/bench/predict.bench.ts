/**
 * Cost of one /predict inference, split into its parts, measured in the same run:
 *   - featurisation alone (the shared tokenizer writing the 4096-float vector);
 *   - the bare onnxruntime-node session.run on a prepared tensor (the baseline);
 *   - OnnxActivityClassifier.classify: features + run + metrics + operation tracking, with the
 *     energy meter's real tracker and the OTel SDK recording the histograms.
 * Sequential and with 32 calls in flight (the buffer pool's case). The budget elsewhere is
 * 2,000 req/s for /predict on 2 cores, i.e. well under 500 µs of CPU per inference.
 * Run: npx tsc -p . && node dist/test/bench/predict.bench.js
 */
import { performance } from 'node:perf_hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createInstrument, EnergyTracker, ESTIMATED, METRICS } from 'carbonscope';
// Before onnxruntime-node: its telemetry is decided when it starts (see the module).
import '../../src/predict/ort-telemetry-off.js';
import * as ort from 'onnxruntime-node';
import { sampleAt } from '#library-tests/unit/energy/scripted.js';
import { sourceAsset } from '../../src/paths.js';
import { OnnxActivityClassifier } from '../../src/predict/classifier.js';
import { MODEL_FILE, ONNX_INPUT } from '../../src/predict/model-info.js';
import { encodeInto, TOKENIZER } from '../../src/predict/tokenizer.js';

const N = Number(process.env.BENCH_OPS ?? 5_000);
const ROUNDS = 3;
const TEXTS = [
  'driving 10 hours',
  'cycling to work',
  'eating 200 grams of beef',
  'running the heater for 8 hours',
  'buying a new laptop',
  'taking the train 300 km each way',
];

async function usPer(n: number, body: (i: number) => Promise<unknown> | unknown): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await body(i);
    best = Math.min(best, ((performance.now() - t0) * 1000) / n);
  }
  return best;
}

async function usPerConcurrent(n: number, inFlight: number, body: (i: number) => Promise<unknown>) {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < n) await body(next++);
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    best = Math.min(best, ((performance.now() - t0) * 1000) / n);
  }
  return best;
}

async function main(): Promise<void> {
  const features = new Float32Array(TOKENIZER.vocabSize);
  const tokenize = await usPer(N * 4, (i) => encodeInto(TEXTS[i % TEXTS.length], features));

  const session = await ort.InferenceSession.create(sourceAsset('predict', 'model', MODEL_FILE), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  encodeInto(TEXTS[0], features);
  const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', features, [1, TOKENIZER.vocabSize]) };
  const run = await usPer(N, () => session.run(feeds));

  const reader = new PrometheusExporter({ preventServerStart: true });
  const meter = new MeterProvider({ readers: [reader] }).getMeter('bench');
  const tracker = new EnergyTracker({ clock: () => performance.now() });
  const energy = createInstrument(meter, METRICS.operationEnergy);
  const emissions = createInstrument(meter, METRICS.operationEmissions);
  const attributes = { 'carbonscope.operation': 'inference', [ESTIMATED]: true };
  // As bindMetrics records them: two histograms per ended operation.
  tracker.onEnd((f) => {
    energy.record(f.joules, attributes);
    emissions.record(f.grams, attributes);
  });
  tracker.update(sampleAt(performance.now(), 5, 1e-4, true));
  const classifier = new OnnxActivityClassifier({ tracker, meter });
  await classifier.load();
  const classify = await usPer(N, (i) => classifier.classify(TEXTS[i % TEXTS.length]));
  const concurrent = await usPerConcurrent(N, 32, (i) =>
    classifier.classify(TEXTS[i % TEXTS.length]),
  );

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await classifier.classify(TEXTS[i % TEXTS.length]);
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / N;
  const wallUs = ((performance.now() - t0) * 1000) / N;

  const line = (name: string, us: number) =>
    `${name.padEnd(44)} ${us.toFixed(1).padStart(8)} µs  ${(us / run).toFixed(2).padStart(6)}× run`;
  process.stdout.write(
    [
      `predict inference, best of ${ROUNDS} rounds of ${N} (model ${classifier.model})`,
      line('tokenizer encodeInto', tokenize),
      line('session.run (baseline)', run),
      line('classify, sequential', classify),
      line('classify, 32 in flight', concurrent),
      `classify CPU per call: ${cpuUs.toFixed(1)} µs (wall ${wallUs.toFixed(1)} µs)`,
      '',
    ].join('\n'),
  );
  await classifier.close();
  await session.release();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
