/**
 * The EcoLogits (v0.9) estimate of one LLM API request's environmental impacts, as restated in
 * the project's facts sheet (shared/facts/llm-impacts.md). Pure functions: no I/O, no data files.
 *
 * Every result is a range. A parameter range runs the whole computation once with the minimum
 * and once with the maximum parameters; a PUE or WUE range is carried through the arithmetic.
 * Every step is non-decreasing in each of those inputs, so both amount to evaluating the
 * formulas once with every input at its lower end and once with every input at its upper end.
 */

/** A closed interval; min = max for an exact figure. */
export interface Range {
  min: number;
  max: number;
}

/** A figure that is either exact or a range. */
export type RangeOrNumber = number | Range;

/** Parameter counts in billions. Dense models: active = total. */
export type ModelArchitecture =
  | { type: 'dense'; parameters: RangeOrNumber }
  | { type: 'moe'; total: RangeOrNumber; active: RangeOrNumber };

/** A data centre's efficiency: PUE (dimensionless) and on-site water use (L/kWh). */
export interface DataCenter {
  pue: RangeOrNumber;
  wueOnsite: RangeOrNumber;
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
  dataCenter: DataCenter;
  mix: ElectricityMix;
}

export type Unit = 'kWh' | 'kgCO2eq' | 'kgSbeq' | 'MJ' | 'L';

export interface Criterion extends Range {
  unit: Unit;
}

export interface UsageImpacts {
  energy: Criterion;
  gwp: Criterion;
  adpe: Criterion;
  pe: Criterion;
  wcf: Criterion;
}

export interface EmbodiedImpacts {
  gwp: Criterion;
  adpe: Criterion;
  pe: Criterion;
}

/** Totals (usage + embodied; energy and water are usage only) and both phases. */
export interface Impacts extends UsageImpacts {
  usage: UsageImpacts;
  embodied: EmbodiedImpacts;
  /** The modelled generation latency ΔT (s) that the hardware is held for. */
  generationLatencySeconds: Range;
  /** GPUs assumed to serve the model. */
  gpuCount: Range;
}

/** The method's constants, named as in the facts sheet. */
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
  hardwareLifetimeSeconds: 3 * 365 * 24 * 3600,
  serverWithoutGpu: { gwp: 5700, adpe: 0.37, pe: 70000 },
  gpu: { gwp: 164, adpe: 5.1e-3, pe: 1828 },
} as const;

export function toRange(value: RangeOrNumber): Range {
  return typeof value === 'number' ? { min: value, max: value } : value;
}

/** GPU energy per output token, Wh. */
export function gpuEnergyPerTokenWh(activeParams: number): number {
  const { energyAlpha, energyBeta, energyGamma, batchSize } = METHOD;
  return energyAlpha * Math.exp(energyBeta * batchSize) * activeParams + energyGamma;
}

/** Generation latency per output token, s. */
export function latencyPerTokenSeconds(activeParams: number): number {
  const { latencyAlpha, latencyBeta, latencyGamma, batchSize } = METHOD;
  return latencyAlpha * activeParams + latencyBeta * batchSize + latencyGamma;
}

/** GPUs needed to hold the model in memory, rounded up to a power of two. */
export function gpuCount(totalParams: number): number {
  const memoryGb = (METHOD.memoryOverhead * totalParams * METHOD.quantizationBits) / 8;
  const n = Math.ceil(memoryGb / METHOD.gpuMemoryGb);
  return 2 ** Math.ceil(Math.log2(Math.max(n, 1)));
}

/** ΔT: the modelled generation time, capped by the measured request latency. */
export function generationLatencySeconds(
  activeParams: number,
  outputTokens: number,
  requestLatencySeconds: number | undefined,
): number {
  const modelled = outputTokens * latencyPerTokenSeconds(activeParams);
  return Math.min(modelled, requestLatencySeconds ?? Number.POSITIVE_INFINITY);
}

/** One end of the range: every input at the same end. */
interface PointInput {
  active: number;
  total: number;
  pue: number;
  wueOnsite: number;
  outputTokens: number;
  requestLatencySeconds: number | undefined;
  mix: ElectricityMix;
}

interface PointResult {
  gpus: number;
  deltaT: number;
  energy: number;
  usage: { gwp: number; adpe: number; pe: number; wcf: number };
  embodied: { gwp: number; adpe: number; pe: number };
}

function computePoint(p: PointInput): PointResult {
  const { batchSize, serverPowerKw, gpusPerServer, hardwareLifetimeSeconds } = METHOD;
  const gpus = gpuCount(p.total);
  const deltaT = generationLatencySeconds(p.active, p.outputTokens, p.requestLatencySeconds);
  const gpuEnergyKwh = (p.outputTokens * gpuEnergyPerTokenWh(p.active)) / 1000;
  const serverEnergyKwh =
    (deltaT / 3600) * serverPowerKw * (gpus / gpusPerServer) * (1 / batchSize);
  const energy = p.pue * (serverEnergyKwh + gpus * gpuEnergyKwh);
  const share = deltaT / (hardwareLifetimeSeconds * batchSize);
  const embodiedOf = (k: 'gwp' | 'adpe' | 'pe') =>
    share * ((gpus / gpusPerServer) * METHOD.serverWithoutGpu[k] + gpus * METHOD.gpu[k]);
  return {
    gpus,
    deltaT,
    energy,
    usage: {
      gwp: energy * p.mix.gwp,
      adpe: energy * p.mix.adpe,
      pe: energy * p.mix.pe,
      wcf: energy * (p.wueOnsite + p.pue * p.mix.wue),
    },
    embodied: { gwp: embodiedOf('gwp'), adpe: embodiedOf('adpe'), pe: embodiedOf('pe') },
  };
}

function parameterRanges(arch: ModelArchitecture): { active: Range; total: Range } {
  if (arch.type === 'dense') {
    const p = toRange(arch.parameters);
    return { active: p, total: p };
  }
  return { active: toRange(arch.active), total: toRange(arch.total) };
}

const criterion = (min: number, max: number, unit: Unit): Criterion => ({ min, max, unit });

/** The impacts of one request, per the facts sheet. */
export function computeImpacts(input: ImpactInput): Impacts {
  if (!Number.isFinite(input.outputTokens) || input.outputTokens < 0) {
    throw new RangeError(
      `output token count must be a non-negative number, got ${input.outputTokens}`,
    );
  }
  const { active, total } = parameterRanges(input.architecture);
  const pue = toRange(input.dataCenter.pue);
  const wue = toRange(input.dataCenter.wueOnsite);
  const common = {
    outputTokens: input.outputTokens,
    requestLatencySeconds: input.requestLatencySeconds,
    mix: input.mix,
  };
  const lo = computePoint({
    ...common,
    active: active.min,
    total: total.min,
    pue: pue.min,
    wueOnsite: wue.min,
  });
  const hi = computePoint({
    ...common,
    active: active.max,
    total: total.max,
    pue: pue.max,
    wueOnsite: wue.max,
  });

  const usage: UsageImpacts = {
    energy: criterion(lo.energy, hi.energy, 'kWh'),
    gwp: criterion(lo.usage.gwp, hi.usage.gwp, 'kgCO2eq'),
    adpe: criterion(lo.usage.adpe, hi.usage.adpe, 'kgSbeq'),
    pe: criterion(lo.usage.pe, hi.usage.pe, 'MJ'),
    wcf: criterion(lo.usage.wcf, hi.usage.wcf, 'L'),
  };
  const embodied: EmbodiedImpacts = {
    gwp: criterion(lo.embodied.gwp, hi.embodied.gwp, 'kgCO2eq'),
    adpe: criterion(lo.embodied.adpe, hi.embodied.adpe, 'kgSbeq'),
    pe: criterion(lo.embodied.pe, hi.embodied.pe, 'MJ'),
  };
  const sum = (a: Criterion, b: Criterion): Criterion =>
    criterion(a.min + b.min, a.max + b.max, a.unit);
  return {
    energy: usage.energy,
    gwp: sum(usage.gwp, embodied.gwp),
    adpe: sum(usage.adpe, embodied.adpe),
    pe: sum(usage.pe, embodied.pe),
    wcf: usage.wcf,
    usage,
    embodied,
    generationLatencySeconds: { min: lo.deltaT, max: hi.deltaT },
    gpuCount: { min: lo.gpus, max: hi.gpus },
  };
}

/** The midpoint of a range, as EcoLogits reports "mean [min – max]". */
export function mean(range: Range): number {
  return (range.min + range.max) / 2;
}
