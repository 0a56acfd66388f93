import { gramsPerJoule } from '../emissions.js';
import type { IntensityReading } from '../grid/index.js';
import { logicalCpus } from '../logical-cpus.js';
import { firstLineOf } from '../thrown-text.js';
import { type AttributionMode, processShare } from './attribution.js';
import type { EarlyBaseline } from './early-baseline.js';
import type { GpuShareReader } from './gpu-share/index.js';
import { type Clock, type HostCpuReader, NO_PROCESS_CPU, type ProcessCpuReader } from './probes.js';
import { RateWindow } from './rate-window.js';
import {
  type EnergyReading,
  type HostCpuDelta,
  hostUtilization,
  type PowerSource,
  type SampleTick,
} from './sources/index.js';
import type {
  Component,
  EmissionsFigure,
  EnergySample,
  HostCpuStandIns,
  PowerFigure,
  Scope,
  ScopeTotals,
} from './types.js';

/**
 * A reading implying more than this is dropped as implausible (a counter glitch that slipped
 * past its source), rather than poisoning a counter that can never go back down.
 */
export const MAX_PLAUSIBLE_WATTS = 100_000;

/**
 * The shortest span a rate (watts, grams per second) is read over: the meter's own shortest
 * interval (its first, FIRST_SAMPLE_MS). A collection's sample may come any time after the last.
 */
const RATE_WINDOW_MS = 100;

/**
 * Time the boot clock ran beyond the monotonic one in an interval before the interval counts as
 * spanning a suspend: /proc/uptime counts in 10 ms, but without it Node's os.uptime() gives
 * CLOCK_BOOTTIME's whole seconds, which run up to 1 s beyond (plus the reads' skew), and a
 * suspend is seconds at the least.
 */
const MIN_SUSPEND_MS = 2000;

/** The running state of one `{scope, component, source}` series (the sampler's own). */
interface Series {
  /** Its key in the sampler's series and rate window. */
  readonly key: string;
  readonly scope: Scope;
  readonly component: Component;
  readonly source: string;
  readonly estimated: boolean;
  joules: number;
  watts: number;
  /** Joules of the tick in progress; turned into `watts` when the tick ends. */
  tickJoules: number;
  /** Joules of the tick in progress spent while the machine was suspended: in no rate. */
  asleepJoules: number;
  /** Intervals with a `partial` reading (EnergyReading.partial), this one's counted once. */
  partialIntervals: number;
  partialNow: boolean;
}

/** The running state of one scope's emissions in one zone, of measured or of estimated energy. */
interface Emissions {
  /** Its key in the sampler's emissions and rate window. */
  readonly key: string;
  readonly scope: Scope;
  readonly zone: string;
  readonly estimated: boolean;
  grams: number;
  gramsPerSecond: number;
}

/** Joules of one tick per scope, split by whether a meter or a model gave them. */
type Split = Record<Scope, { measured: number; estimated: number; seen: Set<boolean> }>;

export interface SamplerOptions {
  sources: { host: PowerSource; gpus: readonly PowerSource[] };
  attribution: AttributionMode;
  pue: number;
  /**
   * The reserved share of the host's embodied emissions per second (embodiedGramsPerSecond of
   * the settings); 0 leaves them out.
   */
  embodiedGramsPerSecond: number;
  clock: Clock;
  /**
   * Milliseconds that go on while the machine is suspended (Linux's CLOCK_BOOTTIME), which the
   * monotonic clock does not count; without it no interval is taken to span a suspend.
   */
  bootClock?: Clock;
  hostCpu: HostCpuReader;
  processCpu: ProcessCpuReader;
  /**
   * Cumulative CPU seconds of the measured process's non-Node children (ChildrenCpu), added to
   * processCpu's: the process's energy holds them, its operations' own share does not (the
   * tracker gives their part to the operations that spawned them, where known).
   */
  childCpu?: ProcessCpuReader;
  /** The intensity valid now, without I/O (GridIntensity.peek). */
  intensity: () => IntensityReading | undefined;
  /** Wall clock (epoch ms) stamped on each sample. */
  wallClock: () => number;
  /** Called with the source and the error, for logging; the sample goes on without it. */
  onSourceError: (source: PowerSource, err: unknown) => void;
  onProbeError: (what: 'process-cpu', err: unknown) => void;
  /** Called at each tick the host's CPU time is unread, with what is used instead. */
  onHostCpuFloor: (message: string) => void;
  /**
   * The process's share of each GPU of one GPU source (`carbonscope run`: nvidia-smi pmon);
   * without it, GPU energy is the host's only.
   */
  gpuShares?: GpuShareReader;
}

const NO_HOST_CPU: HostCpuDelta = { activeSeconds: 0, totalSeconds: 0, cpus: 0 };

/**
 * What stands in for an unread host's busy CPU time, with a measured process and without one
 * (processCpu NO_PROCESS_CPU).
 */
const PROCESS_FLOOR =
  "the host's busy CPU time is taken as the measured process's own, a floor (the rest of the " +
  'machine is not seen)';
const NO_PROCESS_FLOOR =
  "no process is measured, so the host's CPU is taken as idle: an estimated CPU power is its " +
  'idle one, a floor (the load of the machine is not seen)';

/**
 * Takes one sample of every source and turns it into energy, process attribution and emissions.
 * It owns the running totals and hands out an immutable EnergySample per interval; it holds no
 * timer and knows nothing of who reads the samples.
 */
export class Sampler {
  private readonly series = new Map<string, Series>();
  private readonly emissions = new Map<string, Emissions>();
  private readonly totals = {
    host: { joules: 0, estimatedJoules: 0, grams: 0, embodiedGrams: 0 },
    process: { joules: 0, estimatedJoules: 0, grams: 0, embodiedGrams: 0 },
  };
  private dropped = 0;
  private unpricedJoules = 0;
  private seq = 0;
  /** Replaced, not changed, at each interval it grows: a sample handed out keeps its own. */
  private hostCpuStandIns: HostCpuStandIns | undefined;
  /** The CPUs the host CPU reader's last read counted; 0 before one did. */
  private hostCpus = 0;
  /** Ms of the intervals a stand-in gave since the host CPU reader last read (its baseline). */
  private hostCpuUnreadMs = 0;
  private lastMs = 0;
  private lastBootMs: number | undefined;
  /** The process's and its children's cumulative CPU seconds at the last sample. */
  private readonly lastCpu = { process: 0, child: 0 };
  /** The host's CPU-side power (every series but the GPUs') over the latest tick's time awake. */
  private cpuSideWatts = 0;
  private readonly sources: readonly PowerSource[];
  private readonly rates = new RateWindow(RATE_WINDOW_MS / 1000);

  constructor(private readonly o: SamplerOptions) {
    this.sources = [o.sources.host, ...o.sources.gpus];
  }

  /**
   * Sets the baseline: every reader and source is read once and what they report is discarded,
   * so the meter's window starts now. With `early`, the clocks, the process's CPU and the host's
   * (whose reader took its own then) stay as they were read then: the first interval runs from
   * there, and the sources count from now, but for one that read its counters then too (RAPL,
   * RaplOptions.early: its start-edge sample keeps them).
   */
  prime(early?: EarlyBaseline): void {
    const nowMs = this.o.clock();
    const hostCpu = early ? NO_HOST_CPU : this.readHostCpu();
    this.lastCpu.process = early?.processCpuSeconds ?? this.readCpu(this.o.processCpu) ?? 0;
    this.lastCpu.child = this.readCpu(this.o.childCpu) ?? 0;
    const tick: SampleTick = { nowMs, elapsedMs: 0, hostCpu, edge: 'start' };
    for (const source of this.sources) this.readSource(source, tick);
    this.o.gpuShares?.next(nowMs);
    this.lastMs = early ? Math.min(early.nowMs, nowMs) : nowMs;
    this.lastBootMs = early ? early.bootMs : this.readBootClock();
  }

  /**
   * One sample; returns null when no time has passed since the previous one. `end`: the meter's
   * last (SampleTick.edge).
   */
  sample(edge?: 'end'): EnergySample | null {
    const { o } = this;
    const nowMs = o.clock();
    const elapsedMs = nowMs - this.lastMs;
    if (!(elapsedMs > 0)) return null;
    this.lastMs = nowMs;
    const seconds = elapsedMs / 1000;
    const { rates } = this;
    rates.begin(seconds);
    // A counter read across a suspend (RAPL counts a laptop's suspend-to-idle) brings the
    // suspended hour's energy into a tick of a second on the monotonic clock: 1,800 J read as
    // 1,800 W, and charged to the process and its operations in flight by their CPU share.
    const slept = this.suspendedOver(elapsedMs);
    const suspendedMs = slept ?? 0;
    const awakeFraction = elapsedMs / (elapsedMs + suspendedMs);

    const childCpuSeconds = this.cpuDelta('child', this.o.childCpu);
    const processCpuSeconds = this.cpuDelta('process', this.o.processCpu) + childCpuSeconds;
    const hostCpu = this.hostCpuOver(seconds, processCpuSeconds);
    const hostCpuReadMs = this.hostCpuReadOver(elapsedMs, hostCpu);
    const share = processShare(o.attribution, processCpuSeconds, hostCpu);
    // Idle power (a modelled constant) has no active part: `dynamic` gives the process none of
    // it, `proportional` its busy-time share like every other joule.
    const attributesIdle = o.attribution !== 'dynamic';
    const tick: SampleTick = { nowMs, elapsedMs, hostCpu };
    if (edge) tick.edge = edge;
    // A source that recovers a gap from its counter (RAPL) must know none of it was asleep.
    if (slept !== undefined) tick.suspendedMs = slept;
    // After the process's CPU time: the tree it read is the one the GPU's pids are looked up in.
    const gpuShares = o.gpuShares;
    gpuShares?.next(nowMs);

    let hostJoules = 0;
    let hostAsleepJoules = 0;
    let processJoules = 0;
    /** Joules of the tick's CPU-side host readings taken as spent awake. */
    let awakeSoFar = 0;
    /** Readings across a suspend of series with no power of their own yet: split last. */
    const unknownAwake: { reading: EnergyReading; source: PowerSource; host: Series }[] = [];
    const book = (reading: EnergyReading, source: PowerSource, host: Series, awake: number) => {
      const joules = reading.joules;
      hostJoules += joules;
      host.tickJoules += awake;
      host.asleepJoules += joules - awake;
      hostAsleepJoules += joules - awake;
      if (reading.component !== 'gpu') awakeSoFar += awake;
      // GPU energy is the process's only by what the GPU says of its processes (gpuShares);
      // otherwise it stays on the host, whichever source reports it (nvidia-smi, or
      // powermetrics' Apple GPU line): CPU time says nothing about GPU use.
      if (reading.component === 'gpu' && gpuShares && source.name === gpuShares.source) {
        const gpuShare = gpuShares.share(reading.device);
        if (gpuShare !== undefined) {
          const mine = awake * gpuShare;
          this.seriesOf('process', reading, source).tickJoules += mine;
          processJoules += mine;
        }
        return;
      }
      // Only CPU-side energy follows CPU time.
      if (
        source.scope !== 'process' &&
        source.kind === 'host' &&
        reading.component !== 'gpu' &&
        (attributesIdle || !reading.idle)
      ) {
        const mine = awake * share;
        this.seriesOf('process', reading, source).tickJoules += mine;
        processJoules += mine;
      }
    };
    for (const source of this.sources) {
      const readings = this.readSource(source, tick);
      // Asked after sample(): a source that hands over says what these readings measure.
      const measuresProcess = source.scope === 'process';
      for (const reading of readings) {
        const joules = reading.joules;
        // A gap's energy recovered on this tick was spent before it: booked as a suspend's is.
        const earlier = gapJoulesOf(reading);
        const thisTick = joules - earlier;
        // A model's figure (the estimate) is over the tick's monotonic time, and so is a GPU's
        // (nvidia-smi's power lines, integrated between their monotonic times): all awake. An
        // exporter's gauges are too, and its counters are paced over the ticks after a step, so
        // its tick does not hold a suspend's whole reading to take apart. A counter's spans the
        // suspend too.
        const spansSuspend =
          awakeFraction < 1 && !source.estimated && reading.component !== 'gpu' && !measuresProcess;
        if (
          !(joules >= 0) ||
          joules === Number.POSITIVE_INFINITY ||
          (thisTick * (spansSuspend ? awakeFraction : 1)) / seconds > MAX_PLAUSIBLE_WATTS
        ) {
          this.dropped++;
          continue;
        }
        if (measuresProcess && reading.scope !== 'host') {
          // Already this container's or process's energy, measured: no share of it to take.
          this.seriesOf('process', reading, source).tickJoules += joules;
          processJoules += joules;
          continue;
        }
        const host = this.seriesOf('host', reading, source);
        if (reading.partial) host.partialNow = true;
        if (spansSuspend && !(host.watts > 0)) {
          unknownAwake.push({ reading, source, host });
          continue;
        }
        // The rest of a reading beyond the power it drew before, over the time awake, is the
        // suspend's: the host's energy, in no power figure and in none of the process's.
        book(
          reading,
          source,
          host,
          spansSuspend ? awakeJoules(host, thisTick, seconds, awakeFraction) : thisTick,
        );
      }
    }
    // A series with no power of its own (a source read late, a zone readable again) takes for
    // its time awake what the host drew before, whoever measured or modelled it, less what the
    // other series took: the suspend's average (0.5 W for the 10 W drawn awake) made the first
    // tick's power, and the process's share of it, a twentieth of what it was. With no power
    // before at all (the first tick), that average is all there is.
    let budget = Math.max(0, this.cpuSideWatts * seconds - awakeSoFar);
    for (const { reading, source, host } of unknownAwake) {
      const thisTick = reading.joules - gapJoulesOf(reading);
      const awake = this.cpuSideWatts > 0 ? Math.min(thisTick, budget) : thisTick * awakeFraction;
      budget -= awake;
      book(reading, source, host, awake);
    }

    const power: PowerFigure[] = [];
    let cpuSideWatts = 0;
    const split: Split = {
      host: { measured: 0, estimated: 0, seen: new Set() },
      process: { measured: 0, estimated: 0, seen: new Set() },
    };
    for (const s of this.series.values()) {
      const part = split[s.scope];
      part.seen.add(s.estimated);
      if (s.estimated) part.estimated += s.tickJoules + s.asleepJoules;
      else part.measured += s.tickJoules + s.asleepJoules;
      s.joules += s.tickJoules + s.asleepJoules;
      rates.add(s.key, s.tickJoules);
      s.watts = rates.rate(s.key);
      if (s.scope === 'host' && s.component !== 'gpu') cpuSideWatts += s.watts;
      s.tickJoules = 0;
      s.asleepJoules = 0;
      if (s.partialNow) s.partialIntervals++;
      s.partialNow = false;
      power.push(Object.freeze(figureOf(s)));
    }
    this.cpuSideWatts = cpuSideWatts;

    const intensity = o.intensity() ?? null;
    let hostGrams = 0;
    let processGrams = 0;
    let perJoule = 0;
    if (intensity) {
      perJoule = gramsPerJoule(intensity.carbonIntensity, o.pue);
      hostGrams = hostJoules * perJoule;
      processGrams = processJoules * perJoule;
      // Emissions of measured and of estimated energy are separate series: a source that falls
      // back to the estimate starts a new one instead of relabelling grams a meter measured.
      for (const scope of ['host', 'process'] as const) {
        const part = split[scope];
        for (const estimated of part.seen) {
          const joules = estimated ? part.estimated : part.measured;
          // Only the host's measured energy has a suspend's part (the estimate's has none).
          const asleep = scope === 'host' && !estimated ? hostAsleepJoules : 0;
          const grams = joules * perJoule;
          this.addEmissions(scope, intensity.zone, estimated, grams, (joules - asleep) * perJoule);
        }
      }
    } else {
      this.unpricedJoules += hostJoules;
    }
    this.totals.host.joules += hostJoules;
    this.totals.host.estimatedJoules += split.host.estimated;
    this.totals.host.grams += hostGrams;
    this.totals.process.joules += processJoules;
    this.totals.process.estimatedJoules += split.process.estimated;
    this.totals.process.grams += processGrams;
    // The hardware ages whatever runs: the host's reserved share by time, the process's part of
    // it by the share that attributes the energy (its CPU time, as ENERGY_ATTRIBUTION says).
    const hostEmbodied = o.embodiedGramsPerSecond > 0 ? o.embodiedGramsPerSecond * seconds : 0;
    const processEmbodied = hostEmbodied * share;
    this.totals.host.embodiedGrams += hostEmbodied;
    this.totals.process.embodiedGrams += processEmbodied;

    const emissions: EmissionsFigure[] = [];
    const rate = { host: 0, process: 0 };
    for (const e of this.emissions.values()) {
      emissions.push(Object.freeze(emissionsFigureOf(e)));
      rate[e.scope] += e.gramsPerSecond;
    }
    rates.add('host', hostJoules - hostAsleepJoules);
    rates.add('process', processJoules);
    rates.add('process embodied', processEmbodied);
    const hostWatts = rates.rate('host');
    const processWatts = rates.rate('process');
    // GPUs and a modelled host source make the host's power an estimate; the process's follows
    // only the host source (its GPU share, where read, is measured).
    const hostNow = this.sources.some((s) => s.estimated);
    const processNow = o.sources.host.estimated;
    return Object.freeze({
      seq: ++this.seq,
      nowMs,
      wallMs: o.wallClock(),
      elapsedMs,
      suspendedMs,
      hostJoules,
      processJoules,
      hostWatts,
      processWatts,
      hostGrams,
      processGrams,
      hostEmbodiedGrams: hostEmbodied,
      processEmbodiedGrams: processEmbodied,
      processShare: share,
      hostUtilization: hostUtilization(hostCpu),
      ...(this.hostCpuStandIns ? { hostCpuStandIns: this.hostCpuStandIns } : {}),
      hostCpuReadMs,
      processCpuSeconds,
      ...(childCpuSeconds > 0 ? { childCpuSeconds } : {}),
      intensity,
      gramsPerJoule: perJoule,
      power: Object.freeze(power),
      emissions: Object.freeze(emissions),
      totals: Object.freeze({
        host: Object.freeze({
          ...this.totals.host,
          watts: hostWatts,
          gramsPerSecond: rate.host,
          ...labels(hostNow, this.totals.host.estimatedJoules),
          embodiedGramsPerSecond: hostEmbodied / seconds,
        }),
        process: Object.freeze({
          ...this.totals.process,
          watts: processWatts,
          gramsPerSecond: rate.process,
          ...labels(processNow, this.totals.process.estimatedJoules),
          embodiedGramsPerSecond: rates.rate('process embodied'),
        }),
      }),
      droppedReadings: this.dropped,
      unpricedJoules: this.unpricedJoules,
    });
  }

  private readSource(source: PowerSource, tick: SampleTick): readonly EnergyReading[] {
    try {
      return source.sample(tick);
    } catch (err) {
      this.o.onSourceError(source, err);
      return [];
    }
  }

  /**
   * How long the machine was suspended in an interval of `elapsedMs` (monotonic), by the boot
   * clock: undefined without one (or its last read), 0 when it ran on by less than MIN_SUSPEND_MS.
   */
  private suspendedOver(elapsedMs: number): number | undefined {
    const bootMs = this.readBootClock();
    const last = this.lastBootMs;
    this.lastBootMs = bootMs;
    if (bootMs === undefined || last === undefined) return undefined;
    const suspendedMs = bootMs - last - elapsedMs;
    return suspendedMs >= MIN_SUSPEND_MS ? suspendedMs : 0;
  }

  private readBootClock(): number | undefined {
    try {
      const ms = this.o.bootClock?.();
      return ms !== undefined && Number.isFinite(ms) ? ms : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * A reader that throws read nothing: that interval's host CPU time is unread, as where
   * /proc/stat is missing (the floor, its warning said once), on the CPUs its last read counted
   * (before any, the machine's). It read as an idle host before, counted as read. The error's
   * first line only: no stack.
   */
  private readHostCpu(): HostCpuDelta {
    try {
      const delta = this.o.hostCpu();
      if (delta.cpus > 0) this.hostCpus = delta.cpus;
      return delta;
    } catch (err) {
      const unread = `the host CPU reader failed (${firstLineOf(err)})`;
      return { activeSeconds: 0, totalSeconds: 0, cpus: this.hostCpus || logicalCpus(), unread };
    }
  }

  /**
   * The host's CPU time over an interval of `seconds`. /proc/stat counts in 10 ms ticks, so an
   * interval shorter than that (stop() right after a timer sample) often shows none at all: read
   * as is, it gave the process, and the operations that ended in it, no energy for CPU time the
   * process did spend. The host's capacity over the interval is then its total, as where the
   * reader knows no total (idle went back, the CPUs online changed); an unread host, the floor.
   */
  private hostCpuOver(seconds: number, processCpuSeconds: number): HostCpuDelta {
    const delta = this.readHostCpu();
    const why = delta.standIn ?? delta.unread;
    if (why !== undefined) {
      this.hostCpuStandIns = { intervals: (this.hostCpuStandIns?.intervals ?? 0) + 1, reason: why };
    }
    if (delta.unread !== undefined) return this.hostCpuFloor(delta, seconds, processCpuSeconds);
    if (delta.totalSeconds > 0 || !(delta.cpus > 0)) return delta;
    return { ...delta, totalSeconds: seconds * delta.cpus };
  }

  /**
   * The ms of host CPU time an interval's reading covers (EnergySample.hostCpuReadMs): the reader
   * spreads what it reads after misses over the calls since its last read, so that read covers
   * the intervals a stand-in gave since then, but none before its baseline (HostCpuDelta).
   */
  private hostCpuReadOver(elapsedMs: number, delta: HostCpuDelta): number {
    if (delta.standIn === undefined && delta.unread === undefined) {
      const readMs = this.hostCpuUnreadMs + elapsedMs;
      this.hostCpuUnreadMs = 0;
      return readMs;
    }
    this.hostCpuUnreadMs = delta.baseline ? 0 : this.hostCpuUnreadMs + elapsedMs;
    return 0;
  }

  /**
   * Where the host's CPU time cannot be read (/proc mounted subset=pid), an idle host would be
   * modelled and the process charged nothing of its CPU: the host was at least as busy as the
   * process, whose CPU time (/proc/self, /proc/<pid> of the command's tree) still reads.
   */
  private hostCpuFloor(delta: HostCpuDelta, seconds: number, processCpuSeconds: number) {
    const floor = this.o.processCpu === NO_PROCESS_CPU ? NO_PROCESS_FLOOR : PROCESS_FLOOR;
    this.o.onHostCpuFloor(`${delta.unread}: ${floor}`);
    const totalSeconds = seconds * Math.max(1, delta.cpus);
    const activeSeconds = Math.min(processCpuSeconds, totalSeconds);
    return { ...delta, activeSeconds, totalSeconds };
  }

  /** A cumulative CPU reader's seconds; undefined where there is none or it fails. */
  private readCpu(read: ProcessCpuReader | undefined): number | undefined {
    try {
      const seconds = read?.();
      return seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined;
    } catch (err) {
      this.o.onProbeError('process-cpu', err);
      return undefined;
    }
  }

  /** CPU seconds since the previous sample; a reader that goes down (a child exited) gives 0. */
  private cpuDelta(which: 'process' | 'child', read: ProcessCpuReader | undefined): number {
    const now = this.readCpu(read);
    if (now === undefined) return 0;
    const delta = now - this.lastCpu[which];
    this.lastCpu[which] = now;
    return Math.max(delta, 0);
  }

  private seriesOf(scope: Scope, reading: EnergyReading, source: PowerSource): Series {
    const key = `${scope}|${reading.component}|${source.name}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        key,
        scope,
        component: reading.component,
        source: source.name,
        estimated: source.estimated,
        joules: 0,
        watts: 0,
        tickJoules: 0,
        asleepJoules: 0,
        partialIntervals: 0,
        partialNow: false,
      };
      this.series.set(key, s);
    }
    return s;
  }

  private addEmissions(
    scope: Scope,
    zone: string,
    estimated: boolean,
    grams: number,
    ofRate: number,
  ): void {
    // Apart from the power series' keys: the two share the rate window.
    const key = `emissions|${scope}|${zone}|${estimated}`;
    let e = this.emissions.get(key);
    if (!e) {
      e = { key, scope, zone, estimated, grams: 0, gramsPerSecond: 0 };
      this.emissions.set(key, e);
    }
    e.grams += grams;
    this.rates.add(key, ofRate);
    e.gramsPerSecond = this.rates.rate(key);
    // A zone no longer priced (the zone setting changed) must not keep showing its old rate.
    for (const other of this.emissions.values()) {
      if (other.scope === scope && other.estimated === estimated && other.zone !== zone) {
        other.gramsPerSecond = 0;
      }
    }
  }
}

/** A reading's joules from before its interval (EnergyReading.gapJoules), within its joules. */
function gapJoulesOf(reading: EnergyReading): number {
  const earlier = reading.gapJoules;
  return earlier !== undefined && earlier > 0 && earlier <= reading.joules ? earlier : 0;
}

/**
 * Joules of a reading over an interval that spanned a suspend spent while awake: what the series
 * drew before over the `seconds` awake, less what its earlier readings of the tick took (a series
 * holds every package of its component: each is not the whole series' power), or, for a series
 * with no power yet, the awake part of the interval's time.
 */
function awakeJoules(s: Series, joules: number, seconds: number, awakeFraction: number): number {
  const before =
    s.watts > 0 ? Math.max(0, s.watts * seconds - s.tickJoules) : joules * awakeFraction;
  return Math.min(joules, before);
}

/**
 * The totals' labels: the running totals are an estimate's in part once any source in use was
 * one (a hand-over, a late start), whatever the sources are now; the current rates follow the
 * sources in use now.
 */
export function labels(
  estimatedNow: boolean,
  estimatedJoules: number,
): Pick<ScopeTotals, 'estimated' | 'wattsEstimated'> {
  return { estimated: estimatedNow || estimatedJoules > 0, wattsEstimated: estimatedNow };
}

function figureOf(s: Series): PowerFigure {
  return {
    scope: s.scope,
    component: s.component,
    source: s.source,
    estimated: s.estimated,
    watts: s.watts,
    joules: s.joules,
    ...(s.partialIntervals > 0 ? { partialIntervals: s.partialIntervals } : {}),
  };
}

function emissionsFigureOf(e: Emissions): EmissionsFigure {
  return {
    scope: e.scope,
    zone: e.zone,
    estimated: e.estimated,
    grams: e.grams,
    gramsPerSecond: e.gramsPerSecond,
  };
}
