// `npm run train` (after a build): regenerates the dataset from its rule, trains the network
// under the energy meter, exports it to ONNX, checks it with onnxruntime-node, and writes the
// model and its card (with the training footprint) to src/predict/model/.
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Carbonscope } from 'carbonscope';
import { type Config, loadConfig, readDotenv, secretsOf } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { projectRoot, sourceAsset } from '../../src/paths.js';
import { MODEL_FILE } from '../../src/predict/model-info.js';
import { DEFAULT_GENERATE, generateDataset, writeExamples } from './dataset.js';
import {
  buildCard,
  DEFAULT_MODEL_OPTIONS,
  evaluateModel,
  type TrainingFootprint,
  trainModel,
  writeModel,
} from './pipeline.js';

/**
 * The meter samples every 100 ms during training unless ENERGY_SAMPLE_INTERVAL_MS says
 * otherwise: training takes seconds, and the tracker charges the last partial interval at the
 * previous interval's power, so a short interval keeps that error small.
 */
const TRAINING_SAMPLE_INTERVAL_MS = '100';

function trainingConfig(): Config {
  const env = { ...readDotenv(), ...process.env };
  env.ENERGY_SAMPLE_INTERVAL_MS ??= TRAINING_SAMPLE_INTERVAL_MS;
  return loadConfig(env);
}

/** The same carbonscope the service assembles; training needs no instruments, only figures. */
async function startMeter(config: Config, logger: Logger): Promise<Carbonscope> {
  const energy = await Carbonscope.create({ settings: config, logger });
  await energy.start();
  return energy;
}

function describeMethod(energy: Carbonscope): string {
  const s = energy.snapshot();
  const host = s.sources.find((x) => x.kind === 'host');
  const power = host ? `${host.name}${host.estimated ? ' (a CPU power model)' : ''}` : 'unknown';
  const grid =
    s.grid.carbonIntensity === null
      ? `no grid intensity for ${s.grid.zone}`
      : `grid ${s.grid.zone} ${s.grid.carbonIntensity.toFixed(0)} gCO2e/kWh from ${s.grid.source}` +
        `${s.grid.estimated ? ' (estimated)' : ''}`;
  return `carbonscope energy meter: host power from ${power}, process share by ${s.attribution.mode} attribution, ${grid}, PUE ${s.pue}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: sourceAsset('predict', 'model') },
      data: { type: 'string', default: join(projectRoot, 'tools', 'predict', 'data') },
    },
  });
  const outDir = values.out as string;
  const dataDir = values.data as string;
  const config = trainingConfig();
  // Quiet by default: the meter's start-up lines would bury the training report.
  const logger = createLogger({
    level: process.env.LOG_LEVEL ? config.logLevel : 'warn',
    secrets: secretsOf(config),
  });
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const split = generateDataset(DEFAULT_GENERATE);
  mkdirSync(dataDir, { recursive: true });
  writeExamples(join(dataDir, 'train.jsonl'), split.train);
  writeExamples(join(dataDir, 'test.jsonl'), split.test);
  say(
    `data: ${split.train.length} train, ${split.test.length} test -> ${relative(projectRoot, dataDir)}`,
  );

  const energy = await startMeter(config, logger);
  const operation = energy.begin('training');
  const model = await trainModel(split.train, {
    ...DEFAULT_MODEL_OPTIONS,
    training: {
      ...DEFAULT_MODEL_OPTIONS.training,
      onEpoch: (epoch, loss) => {
        if (epoch % 5 === 0) say(`epoch ${epoch}: loss ${loss.toFixed(4)}`);
      },
    },
  });
  // Close the last interval so the training's final stretch is charged at its own power.
  energy.meter.sampleNow();
  const measured = operation.end();
  const method = describeMethod(energy);
  await energy.stop();

  const footprint: TrainingFootprint = {
    durationSeconds: measured.durationSeconds,
    energyJoules: measured.joules,
    emissionsGrams: measured.grams,
    estimated: measured.estimated,
    method,
  };
  const evaluation = await evaluateModel(model, split.test);
  const card = buildCard(model, evaluation, footprint, {
    train: split.train.length,
    test: split.test.length,
    generator: { ...DEFAULT_GENERATE },
  });
  writeModel(outDir, model, card);

  say(
    `model: ${relative(projectRoot, join(outDir, MODEL_FILE))} (${card.sizeBytes} bytes, version ${card.version})`,
  );
  say(`test accuracy (ONNX): ${(card.evaluation.accuracy * 100).toFixed(2)} %`);
  say(
    `ONNX vs training forward pass: ${evaluation.labelMismatches} label mismatches, max probability difference ${evaluation.maxProbabilityDifference.toExponential(2)}`,
  );
  say(
    `training footprint: ${footprint.durationSeconds.toFixed(3)} s, ${measured.joules.toFixed(3)} J${measured.estimated ? ' (estimated)' : ''}, ${measured.grams.toFixed(6)} gCO2e`,
  );
  say(`  measured by ${method}`);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `train: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
