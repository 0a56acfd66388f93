import type { Attributes } from '@opentelemetry/api';
import type { IntensityReading } from '../grid/types.js';
import { type AttributionMode, hostUtilization, processShare } from './attribution.js';
import { gramsPerJoule } from './emissions.js';
import type { EnergyInstruments } from './instruments.js';
import type { Clock, HostCpuReader, ProcessCpuReader } from './probes.js';
import type { EnergyReading, HostCpuDelta, PowerSource, SampleTick } from './sources/source.js';
import type { Component, Scope } from './types.js';

/**
 * A reading implying more than this is dropped as implausible (a counter glitch that slipped
 * past its source), rather than poisoning a counter that can never go back down.
 */
export const MAX_PLAUSIBLE_WATTS = 100_000;

/** One `{scope, component, source}` series: its running energy and its latest power. */
export interface EnergySeries {
  readonly scope: Scope;
  readonly component: Component;
  readonly source: string;
  readonly estimated: boolean;
  readonly attributes: Attributes;
  joules: number;
  watts: number;
  /** Joules of the tick in progress; turned into `watts` when the tick ends. */
  tickJoules: number;
}

/** Emissions of one scope in one zone. */
export interface EmissionsSeries {
  readonly scope: Scope;
  readonly zone: string;
  readonly attributes: Attributes;
  grams: number;
  gramsPerSecond: number;
}

/** What one sample found, handed to listeners (the dashboard's history, the CLI). */
export interface SampleSummary {
  nowMs: number;
  elapsedMs: number;
  hostJoules: number;
  processJoules: number;
  hostWatts: number;
  processWatts: number;
  hostGrams: number;
  processGrams: number;
  /** The process's share of the host's CPU-side energy over this interval, 0..1. */
  processShare: number;
  /** Host CPU busy fraction over this interval, 0..1. */
  hostUtilization: number;
  /** Null when no intensity was known yet (the energy is then not priced). */
  intensity: IntensityReading | null;
  /** gCO2e per joule at this sample's intensity and the PUE; 0 when no intensity was known. */
  gramsPerJoule: number;
}

export interface SamplerOptions {
  sources: { host: PowerSource; gpus: readonly PowerSource[] };
  attribution: AttributionMode;
  pue: number;
  clock: Clock;
  hostCpu: HostCpuReader;
  processCpu: ProcessCpuReader;
  /** The intensity valid now, without I/O (GridIntensity.peek). */
  intensity: () => IntensityReading | undefined;
  instruments: EnergyInstruments;
  /** Called with the source and the error, for logging; the sample goes on without it. */
  onSourceError: (source: PowerSource, err: unknown) => void;
  onProbeError: (what: 'host-cpu' | 'process-cpu', err: unknown) => void;
}

const NO_HOST_CPU: HostCpuDelta = { activeSeconds: 0, totalSeconds: 0, cpus: 0 };

/**
 * Takes one sample of every source and turns it into energy, process attribution and emissions.
 * It owns the ledger (running totals) and feeds the counters; it holds no timer.
 */
export class Sampler {
  readonly series = new Map<string, EnergySeries>();
  readonly emissions = new Map<string, EmissionsSeries>();
  readonly totals = {
    host: { joules: 0, grams: 0, estimated: false },
    process: { joules: 0, grams: 0, estimated: false },
  };
  /** Readings dropped as NaN, negative, infinite or implausible. */
  dropped = 0;
  /** Energy used while no grid intensity was known, so it has no emissions figure. */
  unpricedJoules = 0;
  samples = 0;
  last: SampleSummary | null = null;

  private lastMs = 0;
  private lastProcessCpu = 0;
  private readonly sources: readonly PowerSource[];

  constructor(private readonly o: SamplerOptions) {
    this.sources = [o.sources.host, ...o.sources.gpus];
  }

  /**
   * Sets the baseline: every reader and source is read once and what they report is discarded,
   * so the meter's window starts now.
   */
  prime(): void {
    const nowMs = this.o.clock();
    const hostCpu = this.readHostCpu();
    this.lastProcessCpu = this.readProcessCpu() ?? 0;
    const tick: SampleTick = { nowMs, elapsedMs: 0, hostCpu };
    for (const source of this.sources) this.readSource(source, tick);
    this.lastMs = nowMs;
  }

  /** One sample; returns null when no time has passed since the previous one. */
  sample(): SampleSummary | null {
    const { o } = this;
    const nowMs = o.clock();
    const elapsedMs = nowMs - this.lastMs;
    if (!(elapsedMs > 0)) return null;
    this.lastMs = nowMs;
    const seconds = elapsedMs / 1000;

    const hostCpu = this.readHostCpu();
    const processCpuSeconds = this.processCpuDelta();
    const share = processShare(o.attribution, processCpuSeconds, hostCpu);
    const tick: SampleTick = { nowMs, elapsedMs, hostCpu };

    let hostJoules = 0;
    let processJoules = 0;
    for (const source of this.sources) {
      const readings = this.readSource(source, tick);
      for (const reading of readings) {
        const joules = reading.joules;
        if (
          !(joules >= 0) ||
          joules === Number.POSITIVE_INFINITY ||
          joules / seconds > MAX_PLAUSIBLE_WATTS
        ) {
          this.dropped++;
          continue;
        }
        this.seriesOf('host', reading, source).tickJoules += joules;
        hostJoules += joules;
        // Only CPU-side energy follows CPU time. GPU energy stays on the host, whichever source
        // reports it (nvidia-smi, or powermetrics' Apple GPU line): no source gives per-process
        // GPU energy, and CPU time says nothing about GPU use.
        if (source.kind === 'host' && reading.component !== 'gpu') {
          const mine = joules * share;
          this.seriesOf('process', reading, source).tickJoules += mine;
          processJoules += mine;
        }
      }
    }

    for (const s of this.series.values()) {
      if (s.tickJoules > 0) o.instruments.energy.add(s.tickJoules, s.attributes);
      s.joules += s.tickJoules;
      s.watts = s.tickJoules / seconds;
      s.tickJoules = 0;
    }

    const intensity = o.intensity() ?? null;
    let hostGrams = 0;
    let processGrams = 0;
    let perJoule = 0;
    if (intensity) {
      perJoule = gramsPerJoule(intensity.carbonIntensity, o.pue);
      hostGrams = hostJoules * perJoule;
      processGrams = processJoules * perJoule;
      this.addEmissions('host', intensity.zone, hostGrams, seconds);
      this.addEmissions('process', intensity.zone, processGrams, seconds);
    } else {
      this.unpricedJoules += hostJoules;
    }

    const hostEstimated = this.sources.some((s) => s.estimated);
    this.totals.host.joules += hostJoules;
    this.totals.host.grams += hostGrams;
    this.totals.host.estimated = hostEstimated;
    this.totals.process.joules += processJoules;
    this.totals.process.grams += processGrams;
    this.totals.process.estimated = o.sources.host.estimated;
    this.samples++;

    this.last = {
      nowMs,
      elapsedMs,
      hostJoules,
      processJoules,
      hostWatts: hostJoules / seconds,
      processWatts: processJoules / seconds,
      hostGrams,
      processGrams,
      processShare: share,
      hostUtilization: hostUtilization(hostCpu),
      intensity,
      gramsPerJoule: perJoule,
    };
    return this.last;
  }

  private readSource(source: PowerSource, tick: SampleTick): readonly EnergyReading[] {
    try {
      return source.sample(tick);
    } catch (err) {
      this.o.onSourceError(source, err);
      return [];
    }
  }

  private readHostCpu(): HostCpuDelta {
    try {
      return this.o.hostCpu();
    } catch (err) {
      this.o.onProbeError('host-cpu', err);
      return NO_HOST_CPU;
    }
  }

  private readProcessCpu(): number | undefined {
    try {
      const seconds = this.o.processCpu();
      return Number.isFinite(seconds) ? seconds : undefined;
    } catch (err) {
      this.o.onProbeError('process-cpu', err);
      return undefined;
    }
  }

  /** CPU seconds since the previous sample; a reader that goes down (a child exited) gives 0. */
  private processCpuDelta(): number {
    const now = this.readProcessCpu();
    if (now === undefined) return 0;
    const delta = now - this.lastProcessCpu;
    this.lastProcessCpu = now;
    return Math.max(delta, 0);
  }

  private seriesOf(scope: Scope, reading: EnergyReading, source: PowerSource): EnergySeries {
    const key = `${scope}|${reading.component}|${source.name}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        scope,
        component: reading.component,
        source: source.name,
        estimated: source.estimated,
        attributes: { scope, component: reading.component, source: source.name },
        joules: 0,
        watts: 0,
        tickJoules: 0,
      };
      this.series.set(key, s);
    }
    return s;
  }

  private addEmissions(scope: Scope, zone: string, grams: number, seconds: number): void {
    const key = `${scope}|${zone}`;
    let e = this.emissions.get(key);
    if (!e) {
      e = { scope, zone, attributes: { scope, zone }, grams: 0, gramsPerSecond: 0 };
      this.emissions.set(key, e);
    }
    if (grams > 0) this.o.instruments.emissions.add(grams, e.attributes);
    e.grams += grams;
    e.gramsPerSecond = grams / seconds;
    // A zone no longer priced (the zone setting changed) must not keep showing its old rate.
    for (const other of this.emissions.values()) {
      if (other.scope === scope && other.zone !== zone) other.gramsPerSecond = 0;
    }
  }
}
