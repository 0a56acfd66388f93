/** A part of the machine a reading covers. */
export type Component = 'cpu' | 'dram' | 'gpu' | 'ram' | 'package' | 'system';

export type SourceName =
  | 'rapl'
  | 'powermetrics'
  | 'nvidia-smi'
  | 'kepler'
  | 'scaphandre'
  | 'estimate';

/** Host CPU time spent since the previous tick, read once per tick and shared by all users. */
export interface HostCpuDelta {
  /** CPU-seconds spent busy across all logical CPUs (user+nice+system+irq+softirq). */
  activeSeconds: number;
  /**
   * CPU-seconds elapsed across all logical CPUs (busy + idle + iowait + steal); 0 when not known
   * (no tick in the interval, idle went back, or the CPUs online changed), where the sampler
   * takes wall time × cpus.
   */
  totalSeconds: number;
  /** Logical CPUs counted. */
  cpus: number;
  /**
   * Why the host's CPU time could not be read at all (no /proc/stat, os.cpus() empty): the
   * meter then takes the measured process's CPU time as the host's busy time, a floor.
   */
  unread?: string;
  /**
   * Why this interval's host CPU time was not read, where the last reading stands in for it
   * (/proc/stat failing after a read got through): the figures of the interval rest on it.
   */
  standIn?: string;
  /**
   * Set, with `unread`, on the read that made the reader's baseline where none could be made
   * before: the next delta counts from here. A read after misses (a `standIn`, or an `unread`
   * after the baseline) holds their CPU time, its figures the average over them and its own.
   */
  baseline?: true;
}

/** What the meter hands every source on each tick. */
export interface SampleTick {
  /** Monotonic milliseconds (performance.now() or a scripted clock in tests). */
  nowMs: number;
  /** Milliseconds since the previous tick. */
  elapsedMs: number;
  hostCpu: HostCpuDelta;
  /**
   * `start`: the meter's baseline (what is read is discarded; the window starts now); `end`: its
   * last sample (the window ends now). A source whose readings come on a clock of its own (a
   * GPU's lines) counts its energy from and up to these instants, not from the reading before
   * or to the reading after.
   */
  edge?: 'start' | 'end';
  /**
   * Milliseconds of the interval the machine was suspended, by the boot clock (0 under the
   * sampler's 2 s floor); absent where no boot clock tells, so a suspend cannot be ruled out.
   */
  suspendedMs?: number;
  /**
   * The source's readings of the tick before were not used: a hand-over's primary (Kepler)
   * covered it. A counter's gap across that tick holds energy another source counted.
   */
  coveredBefore?: true;
}

/** Energy one device used since the previous sample. */
export interface EnergyReading {
  component: Component;
  /** Which device: `package-0`, `gpu0`, `host`. */
  device: string;
  /** Joules since the previous sample; always finite and >= 0. */
  joules: number;
  /** Average power over the interval. */
  watts: number;
  /**
   * For a source whose `scope` is `process`: `process` (the default) for the measured container
   * or process, `host` for what the source reports of the whole machine. Ignored otherwise.
   */
  scope?: 'host' | 'process';
  /**
   * True when part of the interval could not be read (an `N/A` power value, a file that
   * vanished): `joules` then covers only what was read, never a guess.
   */
  partial?: boolean;
  /**
   * Of `joules`, those counted before this interval, over ticks the device could not be read
   * (a RAPL zone back after a gap): the host's energy, in no power figure and in no share of the
   * process, whose CPU share over the gap is not known. `watts` is over the rest.
   */
  gapJoules?: number;
  /**
   * True when the whole reading is idle power: a figure that does not follow activity (the
   * estimate's constant RAM power). The `dynamic` attribution gives none of it to the process.
   */
  idle?: boolean;
}

export type ProbeResult =
  | { ok: true; detail: string }
  | {
      ok: false;
      reason: string;
      /**
       * True when the meter is there but this process may not read it (RAPL's root-only
       * energy_uj): the user can fix it, so even auto selection says it as a warning.
       */
      fixable?: boolean;
      /**
       * True when Node's permission model refuses the meter (a read of /sys, a child process):
       * said as a warning, with the flag that grants it, and never tried again, since the
       * grants are fixed at start.
       */
      refused?: boolean;
      /**
       * True when the meter's tool is there and ran, but gave nothing to read yet (nvidia-smi
       * before its driver is loaded, or slower than the probe waits): worth trying again later.
       */
      later?: boolean;
    };

/** A device a source reads: `gpu0` and its model. */
export interface SourceDevice {
  /** As its readings name it: `gpu0`. */
  device: string;
  /** The model, as the vendor's tool prints it: `NVIDIA H200`. */
  name: string;
}

export interface PowerSource {
  readonly name: SourceName;
  /** True when the readings are modelled, not measured. */
  readonly estimated: boolean;
  /** `host` sources cover CPU/package/platform (one is chosen); `gpu` sources add to it. */
  readonly kind: 'host' | 'gpu';
  /**
   * What the readings measure. `host` (the default): the machine, and the process gets its CPU
   * time share of them (see attribution.ts). `process`: the container or process carbonscope
   * runs in, already split off by the source (Kepler, Scaphandre), taken as they are; such a
   * source's `scope: 'host'` readings go to the host scope only. A source that hands over to
   * another (handover.ts) says here, after each sample(), what its readings were.
   */
  readonly scope?: 'host' | 'process';
  /** Checks the source can be read here; a failed probe says why in words for the log. */
  probe(): Promise<ProbeResult>;
  /**
   * Energy since the previous call. Synchronous so the meter's tick stays cheap: file sources
   * read a few small files; streaming sources (child processes) drain what they buffered.
   */
  sample(tick: SampleTick): EnergyReading[];
  close(): Promise<void>;
  /** The devices it has read so far (a GPU source's GPUs); not every source tells. */
  devices?(): readonly SourceDevice[];
}
