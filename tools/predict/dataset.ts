import { readFileSync, writeFileSync } from 'node:fs';
import { isLabel, LABELS, type Label } from '../../src/predict/labels.js';
import { labelFor, sampleActivity } from './activities.js';
import { seededRandom, shuffleInPlace } from './rng.js';

/** One labelled line of the dataset (JSON Lines). */
export interface Example {
  text: string;
  label: Label;
  /** What the rule computed; kept so a reader can check the label. */
  kgCO2e: number;
  kind: string;
}

export interface Split {
  train: Example[];
  test: Example[];
}

export interface GenerateOptions {
  seed: number;
  /** Distinct examples wanted for each label, so the classes are balanced. */
  perLabel: number;
  /** Share of each label held out for the test split. */
  testFraction: number;
}

export const DEFAULT_GENERATE: GenerateOptions = {
  seed: 20240501,
  perLabel: 1400,
  testFraction: 0.2,
};

/**
 * Draws activities from the catalogue until every label has `perLabel` distinct texts, then
 * splits each label the same way (stratified), all driven by one seeded generator: the same
 * options always give the same files.
 */
export function generateDataset(options: GenerateOptions = DEFAULT_GENERATE): Split {
  const random = seededRandom(options.seed);
  const byLabel = new Map<Label, Example[]>(LABELS.map((l) => [l, []]));
  const seen = new Set<string>();
  const maxDraws = options.perLabel * LABELS.length * 200;
  let filled = 0;
  for (let draw = 0; draw < maxDraws && filled < LABELS.length; draw++) {
    const sample = sampleActivity(random);
    if (seen.has(sample.text)) continue;
    seen.add(sample.text);
    // Rounding first removes float noise at the thresholds (10 min × 40 km/h × 0.15 kg/km is
    // 0.99999… in binary) and keeps every line's label checkable from its kgCO2e.
    const kgCO2e = round(sample.kgCO2e);
    const label = labelFor(kgCO2e);
    const bucket = byLabel.get(label) as Example[];
    if (bucket.length >= options.perLabel) continue;
    bucket.push({ text: sample.text, label, kgCO2e, kind: sample.kind });
    if (bucket.length === options.perLabel) filled++;
  }
  const split: Split = { train: [], test: [] };
  for (const [label, bucket] of byLabel) {
    if (bucket.length < options.perLabel) {
      throw new Error(
        `the rule yields only ${bucket.length} distinct "${label}" activities, fewer than ${options.perLabel}`,
      );
    }
    const nTest = Math.round(bucket.length * options.testFraction);
    shuffleInPlace(bucket, random);
    split.test.push(...bucket.slice(0, nTest));
    split.train.push(...bucket.slice(nTest));
  }
  shuffleInPlace(split.train, random);
  shuffleInPlace(split.test, random);
  return split;
}

function round(kg: number): number {
  return Number(kg.toPrecision(6));
}

export function writeExamples(path: string, examples: readonly Example[]): void {
  writeFileSync(path, `${examples.map((e) => JSON.stringify(e)).join('\n')}\n`);
}

/** Reads a JSON Lines file of examples; a malformed line stops with its line number. */
export function readExamples(path: string): Example[] {
  const out: Example[] = [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const value = JSON.parse(line) as Partial<Example>;
    if (typeof value.text !== 'string' || !isLabel(value.label)) {
      throw new Error(`${path}:${i + 1}: expected {"text": string, "label": low|middle|high}`);
    }
    out.push({
      text: value.text,
      label: value.label,
      kgCO2e: Number(value.kgCO2e ?? Number.NaN),
      kind: String(value.kind ?? ''),
    });
  });
  return out;
}
