import { totalmem } from 'node:os';
import { logicalCpus } from '../../logical-cpus.js';
import type { EnergyReading, PowerSource, ProbeResult, SampleTick } from './source.js';
import { hostUtilization } from './utilization.js';

// The model's figures the settings default to live with the settings' other bounds.
export {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  RAM_WATTS_PER_GB,
} from '../../energy-defaults.js';

/** CodeCarbon's TDP model: watts = TDP × (0.1 + 0.9 × load³); this is its 0.1 at idle. */
export const TDP_IDLE_FRACTION = 0.1;
/** CodeCarbon's TDP guess per logical thread when the TDP is not known. */
export const TDP_WATTS_PER_THREAD = 4;
const BYTES_PER_GB = 1024 ** 3;

/** The estimate's settings (ENERGY_CPU_*, ENERGY_RAM_WATTS_PER_GB). */
export interface EstimateSettings {
  cpuModel: 'linear' | 'tdp';
  cpuMinWattsPerVcpu: number;
  cpuMaxWattsPerVcpu: number;
  cpuTdpWatts: number | undefined;
  ramWattsPerGb: number;
}

export function linearCpuWatts(vcpus: number, load: number, minW: number, maxW: number): number {
  return vcpus * (minW + load * (maxW - minW));
}

export function tdpCpuWatts(tdpWatts: number, load: number): number {
  return tdpWatts * (TDP_IDLE_FRACTION + (1 - TDP_IDLE_FRACTION) * load ** 3);
}

export interface EstimateOptions {
  settings: EstimateSettings;
  /** Installed RAM in bytes; defaults to os.totalmem(). */
  totalMemoryBytes?: number;
  /** Logical CPUs when the tick does not say; defaults to logicalCpus(). */
  cpus?: number;
}

/**
 * Modelled power for when no meter can be read: CPU from the tick's host utilization, RAM from
 * installed memory. Every reading is an estimate (`estimated: true`, source `estimate`).
 */
export function createEstimateSource(options: EstimateOptions): PowerSource {
  const s = options.settings;
  const ramWatts = (s.ramWattsPerGb * (options.totalMemoryBytes ?? totalmem())) / BYTES_PER_GB;
  const defaultCpus = options.cpus ?? logicalCpus();
  const cpuWatts = (cpus: number, load: number): number =>
    s.cpuModel === 'tdp'
      ? tdpCpuWatts(s.cpuTdpWatts ?? TDP_WATTS_PER_THREAD * cpus, load)
      : linearCpuWatts(cpus, load, s.cpuMinWattsPerVcpu, s.cpuMaxWattsPerVcpu);
  const model =
    s.cpuModel === 'tdp'
      ? `tdp ${s.cpuTdpWatts === undefined ? `${TDP_WATTS_PER_THREAD} W/thread` : `${s.cpuTdpWatts} W`}`
      : `linear ${s.cpuMinWattsPerVcpu}-${s.cpuMaxWattsPerVcpu} W/vCPU`;

  return {
    name: 'estimate',
    estimated: true,
    kind: 'host',
    async probe(): Promise<ProbeResult> {
      return { ok: true, detail: `${model}, RAM ${s.ramWattsPerGb} W/GiB` };
    },
    sample(tick: SampleTick): EnergyReading[] {
      const seconds = tick.elapsedMs > 0 ? tick.elapsedMs / 1000 : 0;
      const cpus = tick.hostCpu.cpus > 0 ? tick.hostCpu.cpus : defaultCpus;
      const load = hostUtilization(tick.hostCpu);
      const cpuW = cpuWatts(cpus, load);
      return [
        { component: 'cpu', device: 'cpu', joules: cpuW * seconds, watts: cpuW },
        // A constant per GB installed: idle power, whatever the load.
        {
          component: 'ram',
          device: 'ram',
          joules: ramWatts * seconds,
          watts: ramWatts,
          idle: true,
        },
      ];
    },
    async close(): Promise<void> {},
  };
}
