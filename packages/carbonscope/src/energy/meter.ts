import { type EmbodiedSettings, embodiedGramsPerSecond } from '../embodied.js';
import type { GridIntensity, IntensityReading } from '../grid/index.js';
import { heldUntilSettled } from '../hold.js';
import { callOne, checkListener } from '../listeners.js';
import type { Logger } from '../log.js';
import { messageOf } from '../thrown-text.js';
import { detached, untraced } from '../untraced.js';
import type { AttributionMode } from './attribution.js';
import type { EarlyBaseline } from './early-baseline.js';
import type { GpuShareReader } from './gpu-share/index.js';
import type { ChildCpuReader, Clock, HostCpuReader, ProcessCpuReader } from './probes.js';
import { Sampler } from './sampler.js';
import { type PowerSource, readsGpus } from './sources/index.js';
import type { Timer, TimerHandle } from './timer.js';
import type { EnergySample, SampleListener } from './types.js';

/** The sources the meter samples, and why they were chosen (lines for /energy and the log). */
export interface MeterSources {
  host: PowerSource;
  gpus: readonly PowerSource[];
  /** Why these sources and not others, e.g. `rapl: energy_uj is readable only by root ...`. */
  reasons?: readonly string[];
}

export interface EnergyMeterOptions {
  sources: MeterSources;
  grid: GridIntensity;
  /** The zone whose intensity prices the energy. */
  zone: string;
  attribution: AttributionMode;
  pue: number;
  /** The host's embodied emissions and this deployment's share of it; none when absent. */
  embodied?: EmbodiedSettings;
  intervalMs: number;
  logger: Logger;
  clock: Clock;
  /** Time that goes on while suspended (SamplerOptions.bootClock); none when absent. */
  bootClock?: Clock;
  /** Wall clock, epoch ms, stamped on each sample. */
  wallClock: () => number;
  timer: Timer;
  hostCpu: HostCpuReader;
  processCpu: ProcessCpuReader;
  /** The children's CPU (SamplerOptions.childCpu); closed at stop(). */
  childCpu?: ChildCpuReader;
  /** The process's share of the GPUs' energy (SamplerOptions.gpuShares); closed at stop(). */
  gpuShares?: GpuShareReader;
  /**
   * Called as the baseline is set, the first interval beginning: the tracker, which may have
   * tracked operations before (register's requests while the sources were probed), starts it.
   */
  onBaseline?: () => void;
  /**
   * The clocks read as the meter's owner was built, before its sources were probed: the first
   * interval runs from there (see EarlyBaseline); from start() when absent.
   */
  early?: EarlyBaseline;
}

const MAX_DISTINCT_WARNINGS = 100;
/** Delay of the first sample after start (ms), so readiness does not wait a whole interval. */
export const FIRST_SAMPLE_MS = 100;

/**
 * The energy meter: an event source. One timer samples every source; each sample becomes an
 * immutable EnergySample handed to the listeners (instruments, the operation tracker, the
 * dashboard, the CLI). The meter itself records nothing anywhere.
 */
export class EnergyMeter {
  private readonly sampler: Sampler;
  private readonly listeners = new Set<SampleListener>();
  /** True while the listeners are told of a sample. */
  private telling = false;
  /** Samples taken in a listener's call, told once the listeners are done with the one before. */
  private readonly told: EnergySample[] = [];
  private timer: TimerHandle | undefined;
  private running = false;
  private starting: Promise<void> | undefined;
  private startedAtMs: number | null = null;
  private last: EnergySample | null = null;
  private lastIntensity: IntensityReading | undefined;
  private readonly warned = new Set<string>();
  private resolveFirstSample: () => void = () => undefined;
  private resolveStopped: () => void = () => undefined;
  /** Settles at stop(): a first sample that has not come by then lets go of the process. */
  private readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });
  private readonly firstSampled = new Promise<void>((resolve) => {
    this.resolveFirstSample = resolve;
  });

  constructor(private readonly o: EnergyMeterOptions) {
    this.sampler = new Sampler({
      sources: o.sources,
      attribution: o.attribution,
      pue: o.pue,
      embodiedGramsPerSecond: o.embodied ? embodiedGramsPerSecond(o.embodied) : 0,
      clock: o.clock,
      ...(o.bootClock ? { bootClock: o.bootClock } : {}),
      wallClock: o.wallClock,
      hostCpu: o.hostCpu,
      processCpu: o.processCpu,
      ...(o.childCpu ? { childCpu: () => o.childCpu?.seconds() ?? 0 } : {}),
      intensity: () => this.intensity(),
      onSourceError: (source, err) => this.warnOnce(`source:${source.name}`, err, source.name),
      onProbeError: (what, err) => this.warnOnce(what, err, what),
      onHostCpuFloor: (message) => this.sayOnce('host-cpu-floor', `energy meter: ${message}`),
      ...(o.gpuShares ? { gpuShares: o.gpuShares } : {}),
    });
  }

  get sources(): MeterSources {
    return this.o.sources;
  }

  get options(): Readonly<EnergyMeterOptions> {
    return this.o;
  }

  /** True from start() to stop(): samples come. */
  get sampling(): boolean {
    return this.running;
  }

  /**
   * Epoch ms where its totals begin, null before start(): start()'s, or where the first interval
   * runs from an early baseline, that one's (the default instance's create()).
   */
  get startedAt(): number | null {
    return this.startedAtMs;
  }

  /** The latest sample; null before the first one. */
  latest(): EnergySample | null {
    return this.last;
  }

  /**
   * Fetches the grid intensity, sets the baseline and starts the timer. Resolves then: whatever
   * runs after it is inside the measured window. firstSample() says when figures exist.
   */
  start(): Promise<void> {
    // Its timers are made here, whoever calls: a first request may (measure() before a start).
    this.starting ??= detached(() => this.begin());
    return this.starting;
  }

  /**
   * Resolves after the first sample following start() (what readiness waits for). With
   * `holdProcess`, once started, the process is kept alive until then (100 ms after start, or
   * stop()): the meter's timer never keeps it alive, and a script awaiting this with nothing
   * else to do ended with code 13 mid-await. `register` waits without holding.
   */
  firstSample(holdProcess = false): Promise<void> {
    if (holdProcess && this.starting)
      void heldUntilSettled(Promise.race([this.firstSampled, this.stopped]));
    return this.firstSampled;
  }

  private async begin(): Promise<void> {
    await this.fetchIntensity();
    this.sampler.prime(this.o.early);
    this.o.onBaseline?.();
    this.startedAtMs = this.o.early?.wallMs ?? this.o.wallClock();
    this.running = true;
    const { host, gpus, reasons = [] } = this.o.sources;
    this.o.logger.info(
      {
        host: host.name,
        // A GPU source still tried again (nvidia-smi before its driver) reads none yet.
        gpus: gpus.filter(readsGpus).map((g) => g.name),
        estimated: host.estimated,
        reasons,
        attribution: this.o.attribution,
        intervalMs: this.o.intervalMs,
        zone: this.o.zone,
      },
      `energy meter started: host power from ${host.name}${host.estimated ? ' (estimated)' : ''}`,
    );
    // The first sample comes early so readiness does not wait a whole interval (1 s by default)
    // at start-up; a short first interval is as valid as any other. Then the regular timer.
    const firstDelay = Math.min(FIRST_SAMPLE_MS, this.o.intervalMs);
    this.timer = this.o.timer.once(firstDelay, () => {
      this.sampleNow();
      if (!this.running) return;
      this.timer = this.o.timer.every(this.o.intervalMs, () => this.sampleNow());
    });
  }

  /**
   * Takes a sample now (the timer does this every interval; the CLI does it at a child's exit);
   * `end` for stop()'s last.
   */
  sampleNow(edge?: 'end'): EnergySample | null {
    const sample = this.sampler.sample(edge);
    if (!sample) return null;
    this.last = sample;
    this.resolveFirstSample();
    this.tell(sample);
    return sample;
  }

  /**
   * Tells the listeners of `sample`, and of every one taken in their calls after it, in order.
   * A sample taken in a listener's call (an onSettled listener's settleNow(), cs.stop()'s last)
   * was told at once: the listeners after that one were given it before the sample they were
   * being told of, so the last they were given was the older one, a sample late.
   */
  private tell(sample: EnergySample): void {
    if (this.telling) {
      this.told.push(sample);
      return;
    }
    this.telling = true;
    try {
      for (let next: EnergySample | undefined = sample; next; next = this.told.shift()) {
        for (const listener of this.listeners) callOne(listener, next, this.sampleListenerFailed);
      }
    } finally {
      this.telling = false;
    }
  }

  /** A sample listener's throw or rejection. */
  private readonly sampleListenerFailed = (err: unknown): void =>
    this.warnOnce('listener', err, 'sample listener');

  /** Calls `listener` after every sample; returns the function that unsubscribes it. */
  onSample(listener: SampleListener): () => void {
    checkListener(listener, 'onSample');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes a last sample (so energy up to now counts), stops the timer and closes the sources
   * (and the GPU share reader).
   */
  async stop(): Promise<void> {
    if (this.running) {
      this.running = false;
      this.timer?.cancel();
      this.timer = undefined;
      this.sampleNow('end');
    }
    this.resolveStopped();
    this.o.childCpu?.close();
    const { host, gpus } = this.o.sources;
    await Promise.allSettled([...[host, ...gpus].map((s) => s.close()), this.o.gpuShares?.close()]);
  }

  /** The intensity pricing the energy now: the grid's answer, or the last one it gave. */
  intensity(): IntensityReading | undefined {
    const peeked = this.o.grid.peek(this.o.zone);
    if (peeked) this.lastIntensity = peeked;
    return this.lastIntensity;
  }

  /** Asked once at start, so the first interval is priced at a fetched intensity. */
  private async fetchIntensity(): Promise<void> {
    try {
      // The meter's own, whatever starts it (a first request, lazily): in no trace.
      this.lastIntensity = await untraced(() => this.o.grid.current(this.o.zone));
    } catch (err) {
      this.warnOnce('grid', err, 'grid intensity');
    }
  }

  /** A warning said once however many ticks find it so: what cannot be read, and the stand-in. */
  private sayOnce(key: string, message: string): void {
    if (this.warned.has(key) || this.warned.size >= MAX_DISTINCT_WARNINGS) return;
    this.warned.add(key);
    this.o.logger.warn(message);
  }

  /** One line per distinct failure, so a broken source cannot flood the log every second. */
  private warnOnce(key: string, err: unknown, what: string): void {
    const message = messageOf(err);
    const id = `${key}:${message}`;
    if (this.warned.has(id) || this.warned.size >= MAX_DISTINCT_WARNINGS) return;
    this.warned.add(id);
    this.o.logger.warn(
      { err: message },
      `energy meter: ${what} failed (${message}); sampling goes on without it`,
    );
  }
}
