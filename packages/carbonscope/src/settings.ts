import { z } from 'zod';
import {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  RAM_WATTS_PER_GB,
} from './energy/sources/estimate.js';

/** Thrown when a setting is malformed; `variable` names the environment variable to fix. */
export class SettingsError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'SettingsError';
  }
}

export const ZONE_PATTERN = /^[A-Z]{2}(-[A-Z0-9]+)*$/;
export const ENERGY_SOURCES = ['auto', 'rapl', 'powermetrics', 'nvidia-smi', 'estimate'] as const;
export const ATTRIBUTION_MODES = ['dynamic', 'proportional'] as const;
export const OPERATION_ATTRIBUTION_MODES = ['calibrated', 'exact', 'wall'] as const;

export type Env = Record<string, string | undefined>;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const number = (min: number, max = Number.POSITIVE_INFINITY) => z.coerce.number().min(min).max(max);
const url = z.url({ protocol: /^https?$/ });
const zone = z.string().regex(ZONE_PATTERN, 'expected a zone key such as DE, FR or US-CAL-CISO');

/**
 * carbonscope's own settings, and only those: a host application's other variables (LOG_LEVEL,
 * PORT, ...) are none of the library's business. The variable name is the key, so an error
 * always names the variable the user has to fix.
 */
const schema = {
  CARBON_ZONE: zone.default('DE'),
  ELECTRICITY_MAPS_API_KEY: z.string().min(1).optional(),
  ELECTRICITY_MAPS_BASE_URL: url.default('https://api.electricitymaps.com/v3'),
  GRID_CACHE_TTL_SECONDS: integer(1, 86_400).default(300),
  GRID_TIMEOUT_MS: integer(100, 60_000).default(5000),
  CARBON_INTENSITY: number(0, 5000).optional(),
  PUE: number(1, 5).default(1.0),
  ENERGY_SOURCE: z.enum(ENERGY_SOURCES).default('auto'),
  ENERGY_SAMPLE_INTERVAL_MS: integer(50, 60_000).default(1000),
  ENERGY_POWERCAP_ROOT: z.string().min(1).default('/sys/class/powercap'),
  ENERGY_ATTRIBUTION: z.enum(ATTRIBUTION_MODES).default('dynamic'),
  ENERGY_OPERATION_ATTRIBUTION: z.enum(OPERATION_ATTRIBUTION_MODES).default('calibrated'),
  ENERGY_CALIBRATION_INTERVAL_MS: integer(1000, 3_600_000).default(30_000),
  ENERGY_CPU_MODEL: z.enum(['linear', 'tdp']).default('linear'),
  ENERGY_CPU_MIN_WATTS_PER_VCPU: number(0, 1000).default(AWS_MIN_WATTS_PER_VCPU),
  ENERGY_CPU_MAX_WATTS_PER_VCPU: number(0, 1000).default(AWS_MAX_WATTS_PER_VCPU),
  ENERGY_CPU_TDP_WATTS: number(0, 10_000).optional(),
  ENERGY_RAM_WATTS_PER_GB: number(0, 100).default(RAM_WATTS_PER_GB),
} satisfies Record<string, z.ZodType>;

type Parsed<S extends Record<string, z.ZodType>> = { [K in keyof S]: z.output<S[K]> };

export interface GridSettings {
  zone: string;
  apiKey: string | undefined;
  baseUrl: string;
  cacheTtlMs: number;
  timeoutMs: number;
  fixedIntensity: number | undefined;
}

export interface EnergySettings {
  source: (typeof ENERGY_SOURCES)[number];
  sampleIntervalMs: number;
  powercapRoot: string;
  attribution: (typeof ATTRIBUTION_MODES)[number];
  /** How operations share the process's energy (see EnergyTracker). */
  operationAttribution: (typeof OPERATION_ATTRIBUTION_MODES)[number];
  /** `calibrated`: how often a calibration window opens. */
  calibrationIntervalMs: number;
  pue: number;
  cpuModel: 'linear' | 'tdp';
  cpuMinWattsPerVcpu: number;
  cpuMaxWattsPerVcpu: number;
  cpuTdpWatts: number | undefined;
  ramWattsPerGb: number;
}

export interface Settings {
  grid: GridSettings;
  energy: EnergySettings;
}

/**
 * Validates each variable of `schema` in `env` (an empty value counts as unset); throws
 * SettingsError naming the first bad one. Shared with the app, whose own settings use it too.
 */
export function parseEnv<S extends Record<string, z.ZodType>>(schema: S, env: Env): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(schema)) {
    const raw = env[name];
    const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    const result = type.safeParse(value);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? 'invalid value';
      throw new SettingsError(name, `${reason} (got ${JSON.stringify(raw)})`);
    }
    out[name] = result.data;
  }
  return out as Parsed<S>;
}

/** carbonscope's settings from the environment (CARBON_*, ENERGY_*, PUE, GRID_*, Electricity Maps). */
export function loadSettings(env: Env = process.env): Settings {
  const s = parseEnv(schema, {
    ...env,
    ELECTRICITY_MAPS_API_KEY: env.ELECTRICITY_MAPS_API_KEY || env.ELECTRICITY_MAP_API_KEY,
  });
  if (s.ENERGY_CPU_MIN_WATTS_PER_VCPU > s.ENERGY_CPU_MAX_WATTS_PER_VCPU) {
    throw new SettingsError(
      'ENERGY_CPU_MIN_WATTS_PER_VCPU',
      'must not exceed ENERGY_CPU_MAX_WATTS_PER_VCPU',
    );
  }
  return {
    grid: {
      zone: s.CARBON_ZONE,
      apiKey: s.ELECTRICITY_MAPS_API_KEY,
      baseUrl: s.ELECTRICITY_MAPS_BASE_URL.replace(/\/+$/, ''),
      cacheTtlMs: s.GRID_CACHE_TTL_SECONDS * 1000,
      timeoutMs: s.GRID_TIMEOUT_MS,
      fixedIntensity: s.CARBON_INTENSITY,
    },
    energy: {
      source: s.ENERGY_SOURCE,
      sampleIntervalMs: s.ENERGY_SAMPLE_INTERVAL_MS,
      powercapRoot: s.ENERGY_POWERCAP_ROOT,
      attribution: s.ENERGY_ATTRIBUTION,
      operationAttribution: s.ENERGY_OPERATION_ATTRIBUTION,
      calibrationIntervalMs: s.ENERGY_CALIBRATION_INTERVAL_MS,
      pue: s.PUE,
      cpuModel: s.ENERGY_CPU_MODEL,
      cpuMinWattsPerVcpu: s.ENERGY_CPU_MIN_WATTS_PER_VCPU,
      cpuMaxWattsPerVcpu: s.ENERGY_CPU_MAX_WATTS_PER_VCPU,
      cpuTdpWatts: s.ENERGY_CPU_TDP_WATTS,
      ramWattsPerGb: s.ENERGY_RAM_WATTS_PER_GB,
    },
  };
}

/** Every secret value of the settings, for redaction of free text. */
export function secretsOf(settings: Settings): string[] {
  return [settings.grid.apiKey].filter((s): s is string => Boolean(s));
}
