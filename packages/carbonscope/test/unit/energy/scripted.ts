import { Writable } from 'node:stream';
import { pino } from 'pino';
import type {
  EnergyReading,
  EnergySample,
  HostCpuDelta,
  PowerSource,
  ProbeResult,
  SampleTick,
  SourceName,
  Timer,
  TimerHandle,
} from '../../../src/energy/index.js';
import type { GridIntensity, IntensityReading } from '../../../src/grid/index.js';
import type { Logger } from '../../../src/log.js';
import { Carbonscope, type CarbonscopeOptions } from '../../../src/runtime/carbonscope.js';
import { loadSettings } from '../../../src/settings.js';

/**
 * A clock the test moves by hand, with the event loop's idle time: advance() is time the loop
 * spends busy, idle() time it waits for I/O (what Node's loop idle time counts).
 */
export class ScriptedClock {
  idleMs = 0;
  constructor(public ms = 1000) {}
  readonly now = (): number => this.ms;
  readonly loopIdle = (): number => this.idleMs;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
  idle(ms: number): number {
    this.idleMs += ms;
    return this.advance(ms);
  }
}

/** A power source whose readings the test scripts; records the ticks it was given. */
export class ScriptedSource implements PowerSource {
  readonly ticks: SampleTick[] = [];
  closed = false;
  constructor(
    readonly name: SourceName,
    readonly kind: 'host' | 'gpu',
    readonly estimated: boolean,
    public next: (tick: SampleTick) => EnergyReading[],
  ) {}
  async probe(): Promise<ProbeResult> {
    return { ok: true, detail: 'scripted' };
  }
  sample(tick: SampleTick): EnergyReading[] {
    this.ticks.push(tick);
    return this.next(tick);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A host source drawing constant `watts` on one component. */
export function constantSource(
  watts: number,
  options: {
    name?: SourceName;
    kind?: 'host' | 'gpu';
    component?: EnergyReading['component'];
  } = {},
): ScriptedSource {
  const component = options.component ?? 'package';
  const kind = options.kind ?? 'host';
  return new ScriptedSource(options.name ?? 'rapl', kind, options.name === 'estimate', (t) => [
    {
      component,
      device: kind === 'gpu' ? 'gpu0' : 'package-0',
      joules: (watts * t.elapsedMs) / 1000,
      watts,
    },
  ]);
}

/** Host and process CPU time the test sets before each sample. */
export class ScriptedCpu {
  host: HostCpuDelta = { activeSeconds: 0, totalSeconds: 0, cpus: 2 };
  processSeconds = 0;
  readonly hostCpu = (): HostCpuDelta => this.host;
  readonly processCpu = (): number => this.processSeconds;
  /** One interval of `seconds` wall time on `cpus` CPUs: host busy fraction and process seconds. */
  interval(seconds: number, hostBusy: number, processCpuSeconds: number): void {
    const total = seconds * this.host.cpus;
    this.host = { activeSeconds: total * hostBusy, totalSeconds: total, cpus: this.host.cpus };
    this.processSeconds += processCpuSeconds;
  }
}

export function intensityReading(zone: string, carbonIntensity: number): IntensityReading {
  return {
    zone,
    carbonIntensity,
    unit: 'gCO2e/kWh',
    source: 'fixed',
    isEstimated: false,
    stale: false,
    ageSeconds: 0,
    datetime: null,
    fetchedAt: new Date(0).toISOString(),
  };
}

/** A grid whose intensity the test sets; counts how often current() was asked. */
export class StubGrid implements GridIntensity {
  currentCalls = 0;
  constructor(
    public reading: IntensityReading | undefined,
    readonly defaultZone = 'DE',
  ) {}
  async current(): Promise<IntensityReading> {
    this.currentCalls++;
    if (!this.reading) throw new Error('no intensity');
    return this.reading;
  }
  peek(): IntensityReading | undefined {
    return this.reading;
  }
  async history(): Promise<never> {
    throw new Error('not scripted');
  }
}

/** A logger whose lines the test can read. */
export function memoryLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export function testConfig(env: Record<string, string> = {}) {
  return loadSettings({ CARBON_ZONE: 'DE', ...env });
}

/**
 * A minimal sample for feeding a tracker by hand: the process's energy in the interval of
 * `elapsedMs` that ends at `nowMs`, its price, whether it was estimated, the process's CPU and
 * its embodied emissions in the interval.
 */
export function sampleAt(
  nowMs: number,
  processJoules: number,
  gramsPerJoule: number,
  estimated: boolean,
  elapsedMs = 1000,
  processCpuSeconds = 0,
  processEmbodiedGrams = 0,
): EnergySample {
  const processWatts = processJoules / (elapsedMs / 1000);
  const totals = {
    joules: 0,
    estimatedJoules: 0,
    grams: 0,
    watts: processWatts,
    gramsPerSecond: 0,
    estimated,
    // The interval's energy: the label its operations get (EnergyTracker.settle).
    wattsEstimated: estimated,
    embodiedGrams: 0,
    embodiedGramsPerSecond: processEmbodiedGrams / (elapsedMs / 1000),
  };
  return {
    seq: 1,
    nowMs,
    wallMs: nowMs,
    elapsedMs,
    suspendedMs: 0,
    hostJoules: 0,
    processJoules,
    hostWatts: 0,
    processWatts,
    hostGrams: 0,
    processGrams: 0,
    hostEmbodiedGrams: processEmbodiedGrams,
    processEmbodiedGrams,
    processShare: 0,
    hostUtilization: 0,
    hostCpuReadMs: elapsedMs,
    processCpuSeconds,
    intensity: null,
    gramsPerJoule,
    power: [],
    emissions: [],
    totals: { host: totals, process: totals },
    droppedReadings: 0,
    unpricedJoules: 0,
  };
}

/** A timer the test fires by hand: nothing runs unless `fire()` says so. */
export class ManualTimer implements Timer {
  readonly pending: Array<{ ms: number; fn: () => void; repeat: boolean; cancelled: boolean }> = [];
  once(ms: number, fn: () => void): TimerHandle {
    return this.add(ms, fn, false);
  }
  every(ms: number, fn: () => void): TimerHandle {
    return this.add(ms, fn, true);
  }
  /** Runs every live timer once (one-shot ones are then gone). */
  fire(): void {
    for (const t of [...this.pending]) {
      if (t.cancelled) continue;
      if (!t.repeat) t.cancelled = true;
      t.fn();
    }
  }
  get live(): number {
    return this.pending.filter((t) => !t.cancelled).length;
  }
  private add(ms: number, fn: () => void, repeat: boolean): TimerHandle {
    const t = { ms, fn, repeat, cancelled: false };
    this.pending.push(t);
    return {
      cancel: () => {
        t.cancelled = true;
      },
    };
  }
}

export interface ScriptedCarbonscopeOptions {
  clock: ScriptedClock;
  cpu: ScriptedCpu;
  /** Settings over testConfig()'s. */
  env?: Record<string, string>;
  grid?: GridIntensity;
  captureContext?: CarbonscopeOptions['captureContext'];
  releaseContexts?: CarbonscopeOptions['releaseContexts'];
  /** The wall clock stamped on samples and the start; Date.now when absent. */
  wallClock?: () => number;
  /** The host source; an 8 W estimate when absent. */
  host?: PowerSource;
  /** Where it logs; a memoryLogger() nobody reads when absent. */
  logger?: Logger;
  /** The boot clock, which a suspend runs on past `clock`; none when absent. */
  bootClock?: () => number;
}

/**
 * carbonscope on scripted time and CPU, as the tests that follow one request through it use:
 * an 8 W estimated host (or `host`), DE at 250 gCO2e/kWh (or `grid`), samples only when the
 * test takes them.
 */
export function scriptedCarbonscope(options: ScriptedCarbonscopeOptions): Promise<Carbonscope> {
  const { clock, cpu } = options;
  return Carbonscope.create({
    settings: testConfig(options.env),
    logger: options.logger ?? memoryLogger().logger,
    grid: options.grid ?? new StubGrid(intensityReading('DE', 250)),
    sources: {
      host: options.host ?? constantSource(8, { name: 'estimate', component: 'cpu' }),
      gpus: [],
    },
    clock: clock.now,
    timer: new ManualTimer(),
    hostCpu: cpu.hostCpu,
    processCpu: cpu.processCpu,
    captureContext: options.captureContext,
    releaseContexts: options.releaseContexts,
    ...(options.wallClock ? { wallClock: options.wallClock } : {}),
    ...(options.bootClock ? { bootClock: options.bootClock } : {}),
  });
}

/**
 * carbonscope on a constant 5 W host and a manual timer, DE at 300 gCO2e/kWh: for the tests of
 * what it counts and names (requests, routes, answers), not of the figures it gives them.
 */
export function steadyCarbonscope(
  extra: Partial<CarbonscopeOptions> = {},
  env: Record<string, string> = {},
): Promise<Carbonscope> {
  return Carbonscope.create({
    settings: testConfig(env),
    logger: memoryLogger().logger,
    grid: new StubGrid(intensityReading('DE', 300)),
    sources: { host: constantSource(5), gpus: [] },
    timer: new ManualTimer(),
    ...extra,
  });
}

/**
 * A host source that is the estimate until `measured` is set, then RAPL: what withLateStart and
 * withHandover look like to the meter (name and label follow the source in use).
 */
export function switchingSource(watts: number): {
  source: PowerSource;
  state: { measured: boolean };
} {
  const state = { measured: false };
  const source: PowerSource = {
    get name(): SourceName {
      return state.measured ? 'rapl' : 'estimate';
    },
    get estimated() {
      return !state.measured;
    },
    kind: 'host',
    probe: async () => ({ ok: true, detail: 'scripted' }),
    sample: (t): EnergyReading[] => [
      { component: 'package', device: 'package-0', joules: (watts * t.elapsedMs) / 1000, watts },
    ],
    close: async () => {},
  };
  return { source, state };
}
