import type { Meter } from '@opentelemetry/api';
import type { GridIntensity, IntensityReading } from '../grid/types.js';
import type { Logger } from '../log.js';
import type { Settings } from '../settings.js';
import type { AttributionMode } from './attribution.js';
import { createEnergyInstruments } from './instruments.js';
import type { Clock, HostCpuReader, ProcessCpuReader } from './probes.js';
import { Sampler, type SampleSummary } from './sampler.js';
import type { PowerSource, SourceName } from './sources/source.js';
import { EnergyTracker } from './tracker.js';
import type { Component, OperationTracker, Scope } from './types.js';

/** The sources the meter samples, and why they were chosen (lines for /energy and the log). */
export interface MeterSources {
  host: PowerSource;
  gpus: readonly PowerSource[];
  /** Why these sources and not others, e.g. `rapl: energy_uj is readable only by root ...`. */
  reasons?: readonly string[];
}

export interface EnergyMeterOptions {
  config: Settings;
  logger: Logger;
  meter: Meter;
  grid: GridIntensity;
  sources: MeterSources;
  clock: Clock;
  hostCpu: HostCpuReader;
  processCpu: ProcessCpuReader;
  /** Wall clock for the timestamps of /energy; injectable for tests. */
  now?: () => Date;
}

export interface EnergyFigure {
  scope: Scope;
  component: Component;
  source: string;
  /** True when the figure comes from a model (the estimate source), not a meter. */
  estimated: boolean;
  watts: number;
  joules: number;
}

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
  power: EnergyFigure[];
  totals: Record<
    Scope,
    { joules: number; watts: number; grams: number; gramsPerSecond: number; estimated: boolean }
  >;
  emissions: Array<{ scope: Scope; zone: string; grams: number; gramsPerSecond: number }>;
  /** Readings dropped as NaN, negative or implausible. */
  droppedReadings: number;
  /** Energy used before any grid intensity was known: counted, but without emissions. */
  unpricedJoules: number;
}

const MAX_DISTINCT_WARNINGS = 100;
/** Delay of the first sample after start (ms), so readiness does not wait a whole interval. */
export const FIRST_SAMPLE_MS = 100;

export type SampleListener = (sample: SampleSummary) => void;

/**
 * The energy meter: one unref'd timer samples every source, the sampler turns that into energy,
 * attribution and emissions, and the tracker shares the process's power among operations.
 */
/** What the app's routes and middleware need of the meter. */
export interface EnergyService {
  readonly tracker: OperationTracker;
  snapshot(): EnergySnapshot;
}

export class EnergyMeter implements EnergyService {
  readonly tracker: OperationTracker;
  private readonly operations: EnergyTracker;
  private readonly sampler: Sampler;
  private readonly listeners = new Set<SampleListener>();
  private timer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private startedAt: Date | null = null;
  private sampledAt: Date | null = null;
  private lastIntensity: IntensityReading | undefined;
  private readonly warned = new Set<string>();
  private readonly now: () => Date;
  private resolveFirstSample: () => void = () => undefined;
  private readonly firstSampled = new Promise<void>((resolve) => {
    this.resolveFirstSample = resolve;
  });

  constructor(private readonly o: EnergyMeterOptions) {
    this.now = o.now ?? (() => new Date());
    const instruments = createEnergyInstruments(o.meter);
    this.operations = new EnergyTracker({
      clock: o.clock,
      energyHistogram: instruments.operationEnergy,
      emissionsHistogram: instruments.operationEmissions,
    });
    this.tracker = this.operations;
    this.sampler = new Sampler({
      sources: o.sources,
      attribution: o.config.energy.attribution,
      pue: o.config.energy.pue,
      clock: o.clock,
      hostCpu: o.hostCpu,
      processCpu: o.processCpu,
      intensity: () => this.intensity(),
      instruments,
      onSourceError: (source, err) => this.warnOnce(`source:${source.name}`, err, source.name),
      onProbeError: (what, err) => this.warnOnce(what, err, what),
    });
    instruments.power.addCallback((result) => {
      for (const s of this.sampler.series.values()) result.observe(s.watts, s.attributes);
    });
    instruments.emissionsRate.addCallback((result) => {
      for (const e of this.sampler.emissions.values())
        result.observe(e.gramsPerSecond, e.attributes);
    });
  }

  /**
   * Fetches the grid intensity, sets the baseline and starts the timer. Resolves then: whatever
   * runs after it is inside the measured window. firstSample() says when figures exist.
   */
  start(): Promise<void> {
    this.starting ??= this.begin();
    return this.starting;
  }

  /** Resolves after the first sample following start() (what readiness waits for). */
  firstSample(): Promise<void> {
    return this.firstSampled;
  }

  private async begin(): Promise<void> {
    const { energy, grid } = this.o.config;
    await this.fetchIntensity();
    this.sampler.prime();
    this.startedAt = this.now();
    const { host, gpus, reasons = [] } = this.o.sources;
    this.o.logger.info(
      {
        host: host.name,
        gpus: gpus.map((g) => g.name),
        estimated: host.estimated,
        reasons,
        attribution: energy.attribution,
        intervalMs: energy.sampleIntervalMs,
        zone: grid.zone,
      },
      `energy meter started: host power from ${host.name}${host.estimated ? ' (estimated)' : ''}`,
    );
    // The first sample comes early so readiness does not wait a whole interval (1 s by default)
    // at start-up; a short first interval is as valid as any other. Then the regular timer.
    const firstDelay = Math.min(FIRST_SAMPLE_MS, energy.sampleIntervalMs);
    this.timer = setTimeout(() => {
      this.sampleNow();
      if (this.timer === undefined) return;
      this.timer = setInterval(() => this.sampleNow(), energy.sampleIntervalMs);
      this.timer.unref();
    }, firstDelay);
    this.timer.unref();
  }

  /** Takes a sample now (the timer does this every interval; the CLI does it at a child's exit). */
  sampleNow(): SampleSummary | null {
    const summary = this.sampler.sample();
    if (!summary) return null;
    this.sampledAt = this.now();
    this.resolveFirstSample();
    this.operations.update(
      summary.nowMs,
      summary.processWatts,
      summary.gramsPerJoule,
      this.o.sources.host.estimated,
    );
    for (const listener of this.listeners) {
      try {
        listener(summary);
      } catch (err) {
        this.warnOnce('listener', err, 'sample listener');
      }
    }
    return summary;
  }

  /** Runs fn (sync or async) as one operation; returns what fn returns. */
  track<T>(operation: string, fn: () => T): T {
    return this.operations.track(operation, fn);
  }

  /** Calls `listener` after every sample; returns the function that unsubscribes it. */
  onSample(listener: SampleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a last sample (so energy up to now counts), stops the timer and closes the sources. */
  async stop(): Promise<void> {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.sampleNow();
    }
    const { host, gpus } = this.o.sources;
    await Promise.allSettled([host, ...gpus].map((s) => s.close()));
  }

  snapshot(): EnergySnapshot {
    const { energy, grid } = this.o.config;
    const last = this.sampler.last;
    const { host, gpus, reasons = [] } = this.o.sources;
    const intensity = last?.intensity ?? this.intensity() ?? null;
    const emissions = [...this.sampler.emissions.values()];
    const rate = (scope: Scope) =>
      emissions.filter((e) => e.scope === scope).reduce((sum, e) => sum + e.gramsPerSecond, 0);
    const totals = this.sampler.totals;
    return {
      startedAt: this.startedAt?.toISOString() ?? null,
      sampledAt: this.sampledAt?.toISOString() ?? null,
      samples: this.sampler.samples,
      sampleIntervalMs: energy.sampleIntervalMs,
      attribution: {
        mode: energy.attribution,
        processShare: last?.processShare ?? 0,
        hostUtilization: last?.hostUtilization ?? 0,
      },
      sources: [host, ...gpus].map((s) => ({ name: s.name, kind: s.kind, estimated: s.estimated })),
      reasons: [...reasons],
      grid: {
        zone: intensity?.zone ?? grid.zone,
        carbonIntensity: intensity?.carbonIntensity ?? null,
        unit: 'gCO2e/kWh',
        source: intensity?.source ?? null,
        estimated: intensity?.isEstimated ?? true,
        stale: intensity?.stale ?? false,
      },
      pue: energy.pue,
      power: [...this.sampler.series.values()].map((s) => ({
        scope: s.scope,
        component: s.component,
        source: s.source,
        estimated: s.estimated,
        watts: s.watts,
        joules: s.joules,
      })),
      totals: {
        host: {
          ...totals.host,
          watts: last?.hostWatts ?? 0,
          gramsPerSecond: rate('host'),
        },
        process: {
          ...totals.process,
          watts: last?.processWatts ?? 0,
          gramsPerSecond: rate('process'),
        },
      },
      emissions: emissions.map(({ scope, zone, grams, gramsPerSecond }) => ({
        scope,
        zone,
        grams,
        gramsPerSecond,
      })),
      droppedReadings: this.sampler.dropped,
      unpricedJoules: this.sampler.unpricedJoules,
    };
  }

  /** peek() refreshes an expired entry in the background itself; the last answer stands in. */
  private intensity(): IntensityReading | undefined {
    const peeked = this.o.grid.peek(this.o.config.grid.zone);
    if (peeked) this.lastIntensity = peeked;
    return this.lastIntensity;
  }

  /** Asked once at start, so the first interval is priced at a fetched intensity. */
  private async fetchIntensity(): Promise<void> {
    try {
      this.lastIntensity = await this.o.grid.current(this.o.config.grid.zone);
    } catch (err) {
      this.warnOnce('grid', err, 'grid intensity');
    }
  }

  /** One line per distinct failure, so a broken source cannot flood the log every second. */
  private warnOnce(key: string, err: unknown, what: string): void {
    const message = err instanceof Error ? err.message : String(err);
    const id = `${key}:${message}`;
    if (this.warned.has(id) || this.warned.size >= MAX_DISTINCT_WARNINGS) return;
    this.warned.add(id);
    this.o.logger.warn(
      { err: message },
      `energy meter: ${what} failed; sampling goes on without it`,
    );
  }
}
