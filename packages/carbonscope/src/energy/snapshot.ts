import type { AttributionMode } from './attribution.js';
import type { EnergyMeter } from './meter.js';
import type { SourceName } from './sources/index.js';
import type { EmissionsFigure, EnergySample, PowerFigure, Scope, ScopeTotals } from './types.js';

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
  power: readonly PowerFigure[];
  totals: Record<Scope, ScopeTotals>;
  emissions: readonly EmissionsFigure[];
  /** Readings dropped as NaN, negative or implausible. */
  droppedReadings: number;
  /** Energy used before any grid intensity was known: counted, but without emissions. */
  unpricedJoules: number;
}

const NO_TOTALS: ScopeTotals = {
  joules: 0,
  grams: 0,
  watts: 0,
  gramsPerSecond: 0,
  estimated: true,
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The snapshot of a meter from its latest sample (or what it knows before the first one). */
export function snapshotOf(meter: EnergyMeter): EnergySnapshot {
  const last: EnergySample | null = meter.latest();
  const { sources, zone, attribution, pue, intervalMs } = meter.options;
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
    },
    sources: [host, ...gpus].map((s) => ({ name: s.name, kind: s.kind, estimated: s.estimated })),
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
    power: last?.power ?? [],
    totals: last?.totals ?? {
      host: { ...NO_TOTALS, estimated: sources.host.estimated || gpus.some((g) => g.estimated) },
      process: { ...NO_TOTALS, estimated: sources.host.estimated },
    },
    emissions: last?.emissions ?? [],
    droppedReadings: last?.droppedReadings ?? 0,
    unpricedJoules: last?.unpricedJoules ?? 0,
  };
}
