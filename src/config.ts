import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  RAM_WATTS_PER_GB,
} from './energy/sources/estimate.js';
import { MAX_ZONE_LENGTH, zoneKind } from './grid/zones.js';
import { credentialsOf, withoutCredentials } from './url-credentials.js';

/** Thrown when a setting is missing or malformed; `variable` names the environment variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export const ZONE_PATTERN = /^[A-Z]{2}(-[A-Z0-9]+)*$/;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const ENERGY_SOURCES = ['auto', 'rapl', 'powermetrics', 'nvidia-smi', 'estimate'] as const;

// Plain decimal only: Number() would also take 0x1F41, 1e3, 0b1010 or Infinity.
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const number = (min: number, max = Number.POSITIVE_INFINITY) =>
  z
    .string()
    .regex(/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/, 'expected a decimal number')
    .transform(Number)
    .pipe(z.number().min(min).max(max));
const url = z.url({ protocol: /^https?$/ });
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
/** A comma-separated list whose every item is one of `allowed` (the OTel SDK's own lists). */
const exporterList = (allowed: readonly string[]) =>
  z
    .string()
    .refine(
      (list) => list.split(',').every((item) => allowed.includes(item.trim())),
      `expected a comma-separated list of ${allowed.join(', ')}`,
    );
const zone = z
  .string()
  .max(MAX_ZONE_LENGTH, `expected a zone key of at most ${MAX_ZONE_LENGTH} characters`)
  .regex(ZONE_PATTERN, 'expected a zone key such as DE, FR or US-CAL-CISO');

/**
 * One schema entry per environment variable: the variable name is the key, so an error can
 * always name the variable the user has to fix.
 */
const schema = {
  PORT: integer(0, 65535).default(8001),
  HOST: z.string().min(1).default('0.0.0.0'),
  BODY_LIMIT_KB: integer(1, 10_240).default(64),
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
  ENERGY_ATTRIBUTION: z.enum(['dynamic', 'proportional']).default('dynamic'),
  ENERGY_CPU_MODEL: z.enum(['linear', 'tdp']).default('linear'),
  ENERGY_CPU_MIN_WATTS_PER_VCPU: number(0, 1000).default(AWS_MIN_WATTS_PER_VCPU),
  ENERGY_CPU_MAX_WATTS_PER_VCPU: number(0, 1000).default(AWS_MAX_WATTS_PER_VCPU),
  ENERGY_CPU_TDP_WATTS: number(0, 10_000).optional(),
  ENERGY_RAM_WATTS_PER_GB: number(0, 100).default(RAM_WATTS_PER_GB),
  LLM_BASE_URL: url.optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_PROVIDER: z.string().min(1).default('openai'),
  LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
  LLM_ELECTRICITY_MIX_ZONE: z
    .string()
    .regex(/^[A-Z]{3}$/, 'expected an alpha-3 mix zone such as USA or FRA')
    .optional(),
  LLM_MODELS_FILE: z.string().min(1).optional(),
  LLM_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  MOCK_LLM_PORT: integer(0, 65535).default(8002),
  MOCK_LLM_LATENCY_MS: integer(0, 60_000).default(50),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  // The OTel variables the service reads (the SDK would ignore or misread a malformed one
  // silently). Metrics are pushed over OTLP/HTTP only: grpc is refused for them.
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: z.enum(OTLP_PROTOCOLS).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum([...OTLP_PROTOCOLS, 'grpc']).optional(),
  OTEL_EXPORTER_OTLP_TIMEOUT: integer(1, 600_000).optional(),
  OTEL_METRIC_EXPORT_INTERVAL: integer(1, 86_400_000).optional(),
  OTEL_METRIC_EXPORT_TIMEOUT: integer(1, 600_000).optional(),
  OTEL_TRACES_EXPORTER: exporterList(['otlp', 'zipkin', 'console', 'none']).optional(),
  OTEL_LOGS_EXPORTER: exporterList(['otlp', 'console', 'none']).optional(),
} satisfies Record<string, z.ZodType>;

type Settings = { [K in keyof typeof schema]: z.output<(typeof schema)[K]> };

export interface Config {
  port: number;
  host: string;
  bodyLimitBytes: number;
  logLevel: Settings['LOG_LEVEL'];
  grid: {
    zone: string;
    apiKey: string | undefined;
    baseUrl: string;
    cacheTtlMs: number;
    timeoutMs: number;
    fixedIntensity: number | undefined;
  };
  energy: {
    source: Settings['ENERGY_SOURCE'];
    sampleIntervalMs: number;
    powercapRoot: string;
    attribution: Settings['ENERGY_ATTRIBUTION'];
    pue: number;
    cpuModel: Settings['ENERGY_CPU_MODEL'];
    cpuMinWattsPerVcpu: number;
    cpuMaxWattsPerVcpu: number;
    cpuTdpWatts: number | undefined;
    ramWattsPerGb: number;
  };
  llm: {
    baseUrl: string | undefined;
    apiKey: string | undefined;
    provider: string;
    model: string;
    electricityMixZone: string | undefined;
    modelsFile: string | undefined;
    timeoutMs: number;
    mockPort: number;
    mockLatencyMs: number;
  };
  otel: {
    /** True when an OTLP endpoint is configured, so a periodic OTLP reader is added. */
    otlpMetricsEnabled: boolean;
  };
}

export type Env = Record<string, string | undefined>;

/** Reads `.env` (if present) without overriding what the environment already says. */
export function readDotenv(path = '.env'): Env {
  if (!existsSync(path)) return {};
  return parseDotenv(readFileSync(path));
}

function parseSettings(env: Env): Settings {
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(schema)) {
    const raw = env[name];
    const value = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
    const result = type.safeParse(value);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError(name, `${reason} (got ${JSON.stringify(raw)})`);
    }
    out[name] = result.data;
  }
  return out as Settings;
}

/** Validates every setting once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const merged: Env = {
    ...env,
    ELECTRICITY_MAPS_API_KEY: env.ELECTRICITY_MAPS_API_KEY || env.ELECTRICITY_MAP_API_KEY,
  };
  const s = parseSettings(merged);
  if (s.ENERGY_CPU_MIN_WATTS_PER_VCPU > s.ENERGY_CPU_MAX_WATTS_PER_VCPU) {
    throw new ConfigError(
      'ENERGY_CPU_MIN_WATTS_PER_VCPU',
      'must not exceed ENERGY_CPU_MAX_WATTS_PER_VCPU',
    );
  }
  // Without a fixed intensity an unknown zone would start and price every joule at nothing.
  if (s.CARBON_INTENSITY === undefined && zoneKind(s.CARBON_ZONE) === 'unknown') {
    throw new ConfigError(
      'CARBON_ZONE',
      `unknown zone ${JSON.stringify(s.CARBON_ZONE)}: neither the Electricity Maps zone list nor the ISO country codes know it (GB, not UK; a country or a zone such as DE, FR, US-CAL-CISO), or set CARBON_INTENSITY`,
    );
  }
  return {
    port: s.PORT,
    host: s.HOST,
    bodyLimitBytes: s.BODY_LIMIT_KB * 1024,
    logLevel: s.LOG_LEVEL,
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
      pue: s.PUE,
      cpuModel: s.ENERGY_CPU_MODEL,
      cpuMinWattsPerVcpu: s.ENERGY_CPU_MIN_WATTS_PER_VCPU,
      cpuMaxWattsPerVcpu: s.ENERGY_CPU_MAX_WATTS_PER_VCPU,
      cpuTdpWatts: s.ENERGY_CPU_TDP_WATTS,
      ramWattsPerGb: s.ENERGY_RAM_WATTS_PER_GB,
    },
    llm: {
      baseUrl: s.LLM_BASE_URL,
      apiKey: s.LLM_API_KEY,
      provider: s.LLM_PROVIDER,
      model: s.LLM_MODEL,
      electricityMixZone: s.LLM_ELECTRICITY_MIX_ZONE,
      modelsFile: s.LLM_MODELS_FILE,
      timeoutMs: s.LLM_TIMEOUT_MS,
      mockPort: s.MOCK_LLM_PORT,
      mockLatencyMs: s.MOCK_LLM_LATENCY_MS,
    },
    otel: {
      otlpMetricsEnabled: Boolean(
        env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT,
      ),
    },
  };
}

const REDACTED = '[redacted]';

/** A copy of the config that is safe to log: every secret replaced, its presence kept. */
export function redactConfig(config: Config): Config {
  return {
    ...config,
    grid: {
      ...config.grid,
      apiKey: config.grid.apiKey ? REDACTED : undefined,
      baseUrl: withoutCredentials(config.grid.baseUrl),
    },
    llm: {
      ...config.llm,
      apiKey: config.llm.apiKey ? REDACTED : undefined,
      baseUrl: config.llm.baseUrl && withoutCredentials(config.llm.baseUrl),
    },
  };
}

/** Every secret value of the config, for redaction of free text (errors, upstream bodies). */
export function secretsOf(config: Config): string[] {
  return [
    config.grid.apiKey,
    config.llm.apiKey,
    ...credentialsOf(config.grid.baseUrl),
    ...credentialsOf(config.llm.baseUrl),
  ].filter((s): s is string => Boolean(s));
}
