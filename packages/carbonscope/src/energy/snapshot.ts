import { type EmbodiedSettings, embodiedGramsPerSecond } from '../embodied.js';
import type { AttributionMode } from './attribution.js';
import type { EnergyMeter } from './meter.js';
import { labels } from './sampler.js';
import { readsGpus, type SourceName } from './sources/index.js';
import type {
  EmissionsFigure,
  EnergySample,
  HostCpuStandIns,
  OperationKind,
  PowerFigure,
  Scope,
  ScopeTotals,
} from './types.js';

/** What the meter knows now, as /energy and `carbonscope.snapshot()` give it. */
export interface EnergySnapshot {
  startedAt: string | null;
  sampledAt: string | null;
  samples: number;
  sampleIntervalMs: number;
  attribution: {
    mode: AttributionMode;
    /** The process's share of the host's CPU-side energy over the latest interval, 0..1. */
    processShare: number;
    hostUtilization: number;
    /**
     * Intervals since the start whose host CPU time a stand-in gave (its last reading, or the
     * process's own), and why: processShare and an estimated power rest on it. Absent while none.
     */
    hostCpuStandIns?: HostCpuStandIns;
  };
  sources: Array<{ name: SourceName; kind: 'host' | 'gpu'; estimated: boolean }>;
  reasons: string[];
  grid: {
    zone: string;
    carbonIntensity: number | null;
    unit: 'gCO2e/kWh';
    source: string | null;
    estimated: boolean;
    stale: boolean;
  };
  pue: number;
  /**
   * SCI's M: the host's embodied emissions (TE, kgCO2e), its lifetime (EL, years), the vCPUs
   * this deployment reserves of the host's (RR of ToR), the rate that gives, and where the
   * figures come from. Always estimated. Null for a meter built without them.
   */
  embodied: (EmbodiedSettings & { gramsPerSecond: number; estimated: true }) | null;
  power: readonly PowerFigure[];
  totals: Record<Scope, ScopeTotals>;
  emissions: readonly EmissionsFigure[];
  /** Readings dropped as NaN, negative or implausible. */
  droppedReadings: number;
  /** Energy used before any grid intensity was known: counted, but without emissions. */
  unpricedJoules: number;
  /**
   * Operations dropped from sharing the process's energy while they ran, since the start: run
   * longer than ENERGY_OPERATION_MAX_AGE_MS, or the oldest of too many (EnergyTracker.drop).
   */
  droppedOperations: number;
  /**
   * Each operation's mean footprint and SCI (per operation: R = 1 each), since the start; empty
   * where no one collects them (a bare meter).
   */
  operations: readonly OperationScore[];
}

/** One operation name's figures since the start, per operation (the functional unit). */
export interface OperationScore {
  operation: string;
  kind: OperationKind;
  /** R: the operations settled. */
  count: number;
  /** Mean energy per operation. */
  joules: number;
  /** Mean E × I per operation, gCO2e. */
  operationalGrams: number;
  /** Mean M per operation, gCO2e (estimated). */
  embodiedGrams: number;
  /** (E × I + M) / R, gCO2e per operation. */
  sciGrams: number;
  /** True when any part is a model's figure (M always is, when it is not 0). */
  estimated: boolean;
}

const NO_TOTALS: ScopeTotals = {
  joules: 0,
  estimatedJoules: 0,
  grams: 0,
  watts: 0,
  gramsPerSecond: 0,
  estimated: true,
  wattsEstimated: true,
  embodiedGrams: 0,
  embodiedGramsPerSecond: 0,
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The snapshot of a meter from its latest sample (or what it knows before the first one), with
 * the operations' figures of whoever collects them.
 */
export function snapshotOf(
  meter: EnergyMeter,
  operations: readonly OperationScore[] = [],
  droppedOperations = 0,
): EnergySnapshot {
  const last: EnergySample | null = meter.latest();
  const { sources, zone, attribution, pue, intervalMs, embodied } = meter.options;
  const { host, gpus, reasons = [] } = sources;
  const intensity = last?.intensity ?? meter.intensity() ?? null;
  return {
    startedAt: iso(meter.startedAt),
    sampledAt: iso(last?.wallMs ?? null),
    samples: last?.seq ?? 0,
    sampleIntervalMs: intervalMs,
    attribution: {
      mode: attribution,
      processShare: last?.processShare ?? 0,
      hostUtilization: last?.hostUtilization ?? 0,
      ...(last?.hostCpuStandIns ? { hostCpuStandIns: { ...last.hostCpuStandIns } } : {}),
    },
    // A GPU source still tried again (nvidia-smi without its driver at start) reads nothing yet.
    sources: [host, ...gpus.filter(readsGpus)].map((s) => ({
      name: s.name,
      kind: s.kind,
      estimated: s.estimated,
    })),
    reasons: [...reasons],
    grid: {
      zone: intensity?.zone ?? zone,
      carbonIntensity: intensity?.carbonIntensity ?? null,
      unit: 'gCO2e/kWh',
      source: intensity?.source ?? null,
      estimated: intensity?.isEstimated ?? true,
      stale: intensity?.stale ?? false,
    },
    pue,
    embodied: embodied
      ? { ...embodied, gramsPerSecond: embodiedGramsPerSecond(embodied), estimated: true }
      : null,
    power: last?.power ?? [],
    totals: last?.totals ?? {
      host: { ...NO_TOTALS, ...labels(sources.host.estimated || gpus.some((g) => g.estimated), 0) },
      process: { ...NO_TOTALS, ...labels(sources.host.estimated, 0) },
    },
    emissions: last?.emissions ?? [],
    droppedReadings: last?.droppedReadings ?? 0,
    unpricedJoules: last?.unpricedJoules ?? 0,
    droppedOperations,
    operations,
  };
}
