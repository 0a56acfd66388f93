import { shownValue } from '../shown-value.js';

/**
 * The EcoLogits 0.11 estimate of one LLM API request's environmental impacts: energy, global
 * warming (GWP), abiotic resources (ADPe), primary energy (PE) and water (WCF), split into usage
 * and embodied phases. Pure functions: no I/O, no data files.
 *
 * A figure is a number or a range. The method is evaluated once with every input at its lower
 * end and once with every input at its upper end (every step is non-decreasing in the parameter
 * counts, PUE and WUE). As in EcoLogits, a parameter range makes every result a range, while a
 * PUE or WUE range makes a range only of the results that depend on it (the embodied impacts do
 * not), so a result's shape says which inputs were uncertain.
 */

/** A closed interval. */
export interface Range {
  min: number;
  max: number;
}

/** A figure that is either exact or a range. */
export type ValueOrRange = number | Range;

/** Parameter counts in billions. Dense models: active = total. */
export type ModelArchitecture =
  | { type: 'dense'; parameters: ValueOrRange }
  | { type: 'moe'; total: ValueOrRange; active: ValueOrRange };

/** A model's published serving speed; either may be unknown. */
export interface Deployment {
  /** Output tokens per second. */
  tps?: number;
  /** Time to first token, s. */
  ttft?: number;
}

/** A data centre's efficiency: PUE (dimensionless) and on-site water use (L/kWh). */
export interface DataCenter {
  pue: ValueOrRange;
  wueOnsite: ValueOrRange;
}

/** Impact factors of one kWh from an electricity mix. */
export interface ElectricityMix {
  /** kgCO2eq / kWh */
  gwp: number;
  /** kgSbeq / kWh */
  adpe: number;
  /** MJ / kWh */
  pe: number;
  /** Off-site water consumption factor, L / kWh. */
  wue: number;
}

export interface ImpactInput {
  architecture: ModelArchitecture;
  outputTokens: number;
  /** Measured request latency in seconds; undefined when unknown (counts as infinite). */
  requestLatencySeconds: number | undefined;
  deployment?: Deployment;
  dataCenter: DataCenter;
  mix: ElectricityMix;
}

/** EcoLogits' unit of each criterion. */
export const UNITS = { energy: 'kWh', gwp: 'kgCO2eq', adpe: 'kgSbeq', pe: 'MJ', wcf: 'L' } as const;
export type Criterion = keyof typeof UNITS;
export type EmbodiedCriterion = 'gwp' | 'adpe' | 'pe';

export interface Impact<C extends Criterion = Criterion> {
  value: ValueOrRange;
  unit: (typeof UNITS)[C];
}

export type UsageImpacts = { [C in Criterion]: Impact<C> };
export type EmbodiedImpacts = { [C in EmbodiedCriterion]: Impact<C> };

/** Totals (usage + embodied; energy and water are usage only) and both phases. */
export interface Impacts extends UsageImpacts {
  usage: UsageImpacts;
  embodied: EmbodiedImpacts;
}

/** The method's constants, as EcoLogits 0.11 sets them. */
export const METHOD = {
  batchSize: 64,
  energyAlpha: 1.1665273170451914e-6,
  energyBeta: -0.011205921025579175,
  energyGamma: 4.052928146734005e-5,
  latencyAlpha: 0.0006785088094353663,
  latencyBeta: 0.0003119310311688259,
  latencyGamma: 0.019473717579473387,
  quantizationBits: 16,
  memoryOverhead: 1.2,
  gpuMemoryGb: 80,
  serverPowerKw: 1.2,
  gpusPerServer: 8,
  hardwareLifetimeSeconds: 3 * 365 * 24 * 60 * 60,
  serverWithoutGpu: { gwp: 5700, adpe: 0.37, pe: 70000 },
  gpu: { gwp: 273, adpe: 0.00895, pe: 3721 },
} as const;

/** True where the figure is a range (`{ min, max }`), as EcoLogits gives an uncertain one. */
export function isRange(value: ValueOrRange): value is Range {
  return typeof value !== 'number';
}

/** The figure as a range; a single number is its own min and max. */
export function toRange(value: ValueOrRange): Range {
  return typeof value === 'number' ? { min: value, max: value } : value;
}

const lower = (v: ValueOrRange) => (typeof v === 'number' ? v : v.min);
const upper = (v: ValueOrRange) => (typeof v === 'number' ? v : v.max);

/** The midpoint of a figure, as EcoLogits shows a range: "mean [min - max]". */
export function mean(value: ValueOrRange): number {
  return typeof value === 'number' ? value : (value.min + value.max) / 2;
}

/** GPUs needed to hold the model in memory, rounded up to a power of two. */
export function gpuCount(totalParams: number): number {
  const { memoryOverhead, quantizationBits, gpuMemoryGb } = METHOD;
  const needed = Math.ceil((memoryOverhead * totalParams * quantizationBits) / 8 / gpuMemoryGb);
  // A loop rather than 2 ** ceil(log2(n)): exact for every n, with no logarithm rounding.
  let gpus = 1;
  while (gpus < needed) gpus *= 2;
  return gpus;
}

/**
 * The generation time the hardware is held for, s: the output tokens at the model's published
 * throughput plus its time to first token, or, without a throughput, at the latency regression's
 * speed for its active parameters; never longer than the measured request latency.
 */
export function generationLatencySeconds(
  activeParams: number,
  outputTokens: number,
  requestLatencySeconds: number,
  deployment: Deployment | undefined,
): number {
  const { latencyAlpha, latencyBeta, latencyGamma, batchSize } = METHOD;
  const perToken =
    deployment?.tps === undefined
      ? latencyAlpha * activeParams + latencyBeta * batchSize + latencyGamma
      : 1 / deployment.tps;
  const modelled = outputTokens * perToken + (deployment?.ttft || 0);
  return Math.min(requestLatencySeconds, modelled);
}

/** Every input at one end of its range. */
interface Point {
  active: number;
  total: number;
  pue: number;
  wueOnsite: number;
}

type Figures = { [C in Criterion]: number };
type PointResult = { total: Figures; usage: Figures; embodied: Omit<Figures, 'energy' | 'wcf'> };

function computePoint(input: ImpactInput, latency: number, p: Point): PointResult {
  const { batchSize, serverPowerKw, gpusPerServer, hardwareLifetimeSeconds } = METHOD;
  const { energyAlpha, energyBeta, energyGamma } = METHOD;
  const { outputTokens, mix } = input;
  // Operation order follows EcoLogits', so the doubles agree to the last bit or nearly.
  const perTokenKwh =
    (energyAlpha * Math.exp(energyBeta * batchSize) * p.active + energyGamma) / 1000;
  const gpuEnergy = outputTokens * perTokenKwh;
  const deltaT = generationLatencySeconds(p.active, outputTokens, latency, input.deployment);
  const gpus = gpuCount(p.total);
  const serverEnergy = (deltaT / 3600) * serverPowerKw * (gpus / gpusPerServer) * (1 / batchSize);
  const itEnergy = serverEnergy + gpus * gpuEnergy;
  const energy = p.pue * itEnergy;
  const embodiedOf = (k: EmbodiedCriterion) =>
    (deltaT * ((gpus / gpusPerServer) * METHOD.serverWithoutGpu[k] + gpus * METHOD.gpu[k])) /
    (hardwareLifetimeSeconds * batchSize);
  const usage = {
    energy,
    gwp: energy * mix.gwp,
    adpe: energy * mix.adpe,
    pe: energy * mix.pe,
    wcf: itEnergy * (p.wueOnsite + p.pue * mix.wue),
  };
  const embodied = { gwp: embodiedOf('gwp'), adpe: embodiedOf('adpe'), pe: embodiedOf('pe') };
  return {
    usage,
    embodied,
    total: {
      energy,
      gwp: usage.gwp + embodied.gwp,
      adpe: usage.adpe + embodied.adpe,
      pe: usage.pe + embodied.pe,
      wcf: usage.wcf,
    },
  };
}

function parameters(arch: ModelArchitecture): { active: ValueOrRange; total: ValueOrRange } {
  return arch.type === 'dense'
    ? { active: arch.parameters, total: arch.parameters }
    : { active: arch.active, total: arch.total };
}

/**
 * The output token count, checked: a whole number, since past 2^53 counts are no longer exact
 * and a count such as 1e306 prices a request at Infinity (null in JSON).
 */
function checkedTokens(tokens: unknown): number {
  if (typeof tokens === 'number' && Number.isSafeInteger(tokens) && tokens >= 0) return tokens;
  throw new RangeError(
    `outputTokens: expected a whole number of tokens from 0 to ${Number.MAX_SAFE_INTEGER}, got ${shownValue(tokens)}`,
  );
}

/** The measured latency, s: undefined or null (JSON's unknown) count as infinite. */
function checkedLatency(latency: unknown): number {
  if (latency === undefined || latency === null) return Number.POSITIVE_INFINITY;
  // A string or object slipped through Math.min as NaN, and NaN into every figure.
  if (typeof latency === 'number' && latency >= 0) return latency;
  throw new RangeError(
    `requestLatencySeconds: expected seconds from 0, or undefined when not measured, got ${shownValue(latency)}`,
  );
}

/** Each figure of a number or range, by its path in the input; a missing one as undefined. */
function figuresOf(path: string, value: ValueOrRange | undefined): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object') {
    return [
      [`${path}.min`, value.min],
      [`${path}.max`, value.max],
    ];
  }
  return [[path, value]];
}

/**
 * A caller's own model, data centre and mix figures, checked as the data files' are: a NaN or a
 * string there came out as NaN in every figure, with nothing to say which input it was.
 */
function checkFigures(input: ImpactInput): void {
  const a = input.architecture;
  const params =
    a.type === 'dense'
      ? figuresOf('architecture.parameters', a.parameters)
      : [
          ...figuresOf('architecture.total', a.total),
          ...figuresOf('architecture.active', a.active),
        ];
  const figures = [
    ...params,
    ...figuresOf('dataCenter.pue', input.dataCenter.pue),
    ...figuresOf('dataCenter.wueOnsite', input.dataCenter.wueOnsite),
    ...(['gwp', 'adpe', 'pe', 'wue'] as const).map((k): [string, unknown] => [
      `mix.${k}`,
      input.mix[k],
    ]),
    // Optional: a deployment figure left out is unknown, not missing.
    ...(input.deployment?.ttft === undefined
      ? []
      : figuresOf('deployment.ttft', input.deployment.ttft)),
  ];
  for (const [path, value] of figures) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${path}: expected a finite number from 0, got ${shownValue(value)}`);
    }
  }
  checkRanges(input);
  // 1 / 0 s a token: Infinity, or NaN for no tokens, told as an overflow naming no input.
  const tps: unknown = input.deployment?.tps;
  if (tps !== undefined && !(typeof tps === 'number' && tps > 0 && Number.isFinite(tps))) {
    throw new RangeError(`deployment.tps: expected a finite number over 0, got ${shownValue(tps)}`);
  }
}

/**
 * Ranges as the data files hold them: min not over max, and a MoE's active parameters not over
 * its total. Taken as they came, they gave results whose min was over their max.
 */
function checkRanges(input: ImpactInput): void {
  const a = input.architecture;
  const ranges: Array<[string, ValueOrRange]> =
    a.type === 'dense'
      ? [['architecture.parameters', a.parameters]]
      : [
          ['architecture.total', a.total],
          ['architecture.active', a.active],
        ];
  ranges.push(['dataCenter.pue', input.dataCenter.pue]);
  ranges.push(['dataCenter.wueOnsite', input.dataCenter.wueOnsite]);
  for (const [path, value] of ranges) {
    if (isRange(value) && value.min > value.max) {
      throw new RangeError(`${path}: expected min at most max, got ${value.min} to ${value.max}`);
    }
  }
  if (a.type === 'moe' && (lower(a.active) > lower(a.total) || upper(a.active) > upper(a.total))) {
    throw new RangeError('architecture.active: expected at most architecture.total');
  }
}

/** Every figure of a result, finite: inputs each finite can still overflow together. */
function checkFinite(result: PointResult): void {
  for (const [phase, figures] of Object.entries(result)) {
    for (const [criterion, value] of Object.entries(figures)) {
      if (Number.isFinite(value)) continue;
      throw new RangeError(
        `${phase} ${criterion} is not a finite number (${value}): the model, deployment, data-centre and mix figures are past any real ones`,
      );
    }
  }
}

/** The impacts of one request. */
export function computeImpacts(input: ImpactInput): Impacts {
  checkedTokens(input.outputTokens);
  const latency = checkedLatency(input.requestLatencySeconds);
  checkFigures(input);
  const { active, total } = parameters(input.architecture);
  const { pue, wueOnsite } = input.dataCenter;
  const lo = computePoint(input, latency, {
    active: lower(active),
    total: lower(total),
    pue: lower(pue),
    wueOnsite: lower(wueOnsite),
  });
  const hi = computePoint(input, latency, {
    active: upper(active),
    total: upper(total),
    pue: upper(pue),
    wueOnsite: upper(wueOnsite),
  });
  checkFinite(lo);
  checkFinite(hi);

  // Which results are ranges: all of them for a parameter range; else those depending on a range.
  const ranged = isRange(active) || isRange(total);
  const pueRanged = ranged || isRange(pue);
  const wcfRanged = pueRanged || isRange(wueOnsite);
  const figure = <C extends Criterion>(c: C, min: number, max: number, asRange: boolean) => ({
    value: asRange ? { min, max } : min,
    unit: UNITS[c],
  });
  const phase = (key: 'usage' | 'total'): UsageImpacts => {
    // Totals of GWP, ADPe and PE add the embodied part, a range only for a parameter range.
    const pick = <C extends Criterion>(c: C, asRange: boolean) =>
      figure(c, lo[key][c], hi[key][c], asRange);
    return {
      energy: pick('energy', pueRanged),
      gwp: pick('gwp', pueRanged),
      adpe: pick('adpe', pueRanged),
      pe: pick('pe', pueRanged),
      wcf: pick('wcf', wcfRanged),
    };
  };
  const embodiedPick = <C extends EmbodiedCriterion>(c: C) =>
    figure(c, lo.embodied[c], hi.embodied[c], ranged);
  return {
    ...phase('total'),
    usage: phase('usage'),
    embodied: { gwp: embodiedPick('gwp'), adpe: embodiedPick('adpe'), pe: embodiedPick('pe') },
  };
}
