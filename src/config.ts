import { existsSync, readFileSync } from 'node:fs';
import {
  type Env,
  loadSettings,
  parseEnv,
  type Settings,
  SettingsError,
  secretsOf as settingsSecrets,
} from 'carbonscope';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

export type { Env };
/** A malformed setting; `variable` names the environment variable (the library's own class). */
export { SettingsError as ConfigError };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = z.url({ protocol: /^https?$/ });

/** The app's own settings; carbonscope's (CARBON_*, ENERGY_*, PUE, GRID_*) come from the library. */
const schema = {
  PORT: integer(0, 65535).default(8001),
  HOST: z.string().min(1).default('0.0.0.0'),
  BODY_LIMIT_KB: integer(1, 10_240).default(64),
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
} satisfies Record<string, z.ZodType>;

export interface Config extends Settings {
  port: number;
  host: string;
  bodyLimitBytes: number;
  logLevel: (typeof LOG_LEVELS)[number];
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

/** Reads `.env` (if present) without overriding what the environment already says. */
export function readDotenv(path = '.env'): Env {
  if (!existsSync(path)) return {};
  return parseDotenv(readFileSync(path));
}

/** Validates every setting once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const library = loadSettings(env);
  const s = parseEnv(schema, env);
  return {
    port: s.PORT,
    host: s.HOST,
    bodyLimitBytes: s.BODY_LIMIT_KB * 1024,
    logLevel: s.LOG_LEVEL,
    ...library,
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
    grid: { ...config.grid, apiKey: config.grid.apiKey ? REDACTED : undefined },
    llm: { ...config.llm, apiKey: config.llm.apiKey ? REDACTED : undefined },
  };
}

/** Every secret value of the config, for redaction of free text (errors, upstream bodies). */
export function secretsOf(config: Config): string[] {
  return [...settingsSecrets(config), config.llm.apiKey].filter((s): s is string => Boolean(s));
}
