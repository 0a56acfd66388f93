import { z } from 'zod';
import { typeOf } from './argument-checks.js';
import {
  EMBODIED_LIMITS,
  EMBODIED_PROFILE_FIGURES,
  EMBODIED_PROFILES,
  type EmbodiedSettings,
} from './embodied.js';
import {
  AWS_MAX_WATTS_PER_VCPU,
  AWS_MIN_WATTS_PER_VCPU,
  DEFAULT_CALIBRATION_INTERVAL_MS,
  DEFAULT_MAX_OPERATION_AGE_MS,
  RAM_WATTS_PER_GB,
} from './energy-defaults.js';
import { MAX_CARBON_INTENSITY } from './intensity-bound.js';
import { DEFAULT_MAX_OPERATION_NAMES, MAX_OPERATION_NAMES_LIMIT } from './labels/index.js';
import { logicalCpus } from './logical-cpus.js';
import { nearestName } from './nearest-name.js';
import { maskableSecret, maskableValue } from './secret-length.js';
import { quotedText, shownValue } from './shown-value.js';
import {
  credentialsOf,
  isSecretName,
  maskUrlText,
  percentDecoded,
  urlSecrets,
} from './url-credentials.js';
import { MAX_ZONE_LENGTH, zoneKeyCase, zoneKind } from './zones.js';

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

/** A zone as CARBON_ZONE takes it: Electricity Maps' (`FR`, `US-CAL-CISO`), upper case. */
export const ZONE_PATTERN = /^[A-Z]{2}(-[A-Z0-9]+)*$/;

/** What a zone ZONE_PATTERN refuses should say: the key meant, where it is only in lower case. */
export function zoneKeyProblem(text: string): string {
  const upper = zoneKeyCase(text.trim());
  const meant = upper !== text && ZONE_PATTERN.test(upper) ? `; did you mean ${upper}?` : '';
  return `expected a zone key such as DE, FR or US-CAL-CISO${meant}`;
}
/** What ENERGY_SOURCE takes: a meter, `estimate` (from CPU use), or `auto` (what the host has). */
export const ENERGY_SOURCES = [
  'auto',
  'rapl',
  'powermetrics',
  'nvidia-smi',
  'kepler',
  'scaphandre',
  'estimate',
] as const;
export const ATTRIBUTION_MODES = ['dynamic', 'proportional'] as const;
/** Whose cache an Electricity Maps value goes to: the host's processes on the key, or this one's. */
export const GRID_SHARE_MODES = ['host', 'process'] as const;
/** How an operation's share of the process's energy is weighed (ENERGY_OPERATION_ATTRIBUTION). */
export const OPERATION_ATTRIBUTION_MODES = ['calibrated', 'exact', 'wall'] as const;

export type Env = Record<string, string | undefined>;

/**
 * How old (from its own `datetime`) the last good Electricity Maps value may be and still be
 * served while the upstream fails: 3 h. Its values are hourly (its history is one value an
 * hour), each dated by the hour it stands for, so a fresh one is already up to an hour old by
 * that clock; 3 h lets one fetched late in its hour ride out about two missed hours. Longer,
 * and the day's swing (solar, demand) has moved the mix on: the value says little about now.
 */
export const DEFAULT_STALE_MAX_AGE_SECONDS = 3 * 3600;

/**
 * Electricity Maps lookups an hour for zones other than CARBON_ZONE, which is never limited: 6.
 * The free tier allows tens an hour, and CARBON_ZONE takes 12 of them at the default 5 min TTL
 * (24 with its history); a client walking other zones would spend the rest and have it
 * rate-limited onto its average. A paid plan's quota allows more.
 */
export const DEFAULT_OTHER_ZONE_LOOKUPS_PER_HOUR = 6;

// Plain decimal only: Number() would also take 0x1F41, 1e3, 0b1010 or Infinity.
/** A whole number in decimal digits, within [min, max]; for the app's settings too. */
export const integerSetting = (min: number, max: number) => {
  // One message for every refusal: `-1` is a whole number, and the range is what to fix.
  const message = `expected a whole number in decimal digits, from ${min} to ${max}`;
  return (
    z
      .string()
      .regex(/^\d+$/, message)
      .transform(Number)
      // The range first: past 2^53 int() would fail too, and name 2^53 - 1 as the limit.
      .pipe(z.number().min(min, message).max(max, message).int(message))
  );
};
// Digits past a double's range (1e400) read as Infinity: refused here in the setting's words,
// not zod's number's ("expected number, received Infinity"), which named no range.
const decimal = (message: string) =>
  z
    .string()
    .regex(/^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/, message)
    .transform(Number)
    .refine(Number.isFinite, { message, abort: true });
/** A decimal number within [min, max]; for the app's settings too. */
export const numberSetting = (min: number, max = Number.POSITIVE_INFINITY) => {
  const range = max === Number.POSITIVE_INFINITY ? `${min} or more` : `from ${min} to ${max}`;
  const message = `expected a decimal number, ${range}`;
  return decimal(message).pipe(z.number().min(min, message).max(max, message));
};
/** A power over 0 W, at most max: a CPU of 0 W would price every figure of it at nothing. */
const wattsSetting = (max: number) => {
  const message = `expected a decimal number, over 0 and at most ${max}`;
  return decimal(message).pipe(z.number().gt(0, message).max(max, message));
};
/** An http(s) URL; for the app's settings too. */
export const urlSetting = z.url({
  protocol: /^https?$/,
  message: 'expected an http(s) URL such as https://host:port/path',
});
/** The ranges of the variables in time units, in their own unit: in ms as well (checkSettings). */
const CACHE_TTL_SECONDS = { min: 1, max: 86_400 } as const;
// 0: never a stale value; a week at most, as ENERGY_OPERATION_MAX_AGE_MS.
const STALE_MAX_AGE_SECONDS = { min: 0, max: 604_800 } as const;
const EXPORTER_INTERVAL_MS = { min: 100, max: 600_000 } as const;
const EXPORTER_TIMEOUT_MS = { min: 100, max: 60_000 } as const;
const integer = integerSetting;
const number = numberSetting;
const url = urlSetting;
const zone = z
  .string()
  .max(MAX_ZONE_LENGTH, `expected a zone key of at most ${MAX_ZONE_LENGTH} characters`)
  .regex(ZONE_PATTERN, {
    error: (issue) => zoneKeyProblem(typeof issue.input === 'string' ? issue.input : ''),
  });
/**
 * An http(s) URL that fetch can call: fetch refuses a URL with a user or password in it, so
 * such a setting could never work, and the credentials would end up in logs and errors. Asked
 * of the URL parser, which reads http:///user:pass@host as having them. For the app's too.
 */
export const fetchableUrlSetting = url.refine(
  (u) => credentialsOf(u).length === 0,
  'credentials in the URL are not supported',
);
const endpoint = fetchableUrlSetting;
// Kubernetes names: DNS-1123 labels and subdomains, as the downward API gives them.
const k8sName = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
    'expected a Kubernetes name (lower-case, digits, - and .)',
  );

/**
 * carbonscope's own settings, and only those: a host application's other variables (LOG_LEVEL,
 * PORT, ...) are none of the library's business. The variable name is the key, so an error
 * always names the variable the user has to fix.
 */
const schema = {
  CARBON_ZONE: zone.default('DE'),
  // Sent in a header at every lookup: one that cannot carry it would fail each as a network error.
  ELECTRICITY_MAPS_API_KEY: z
    .string()
    .regex(
      /^[\x21-\x7e]+$/,
      'expected visible ASCII characters only (no space, line break or control)',
    )
    .optional(),
  ELECTRICITY_MAPS_BASE_URL: endpoint.default('https://api.electricitymaps.com/v3'),
  GRID_CACHE_TTL_SECONDS: integer(CACHE_TTL_SECONDS.min, CACHE_TTL_SECONDS.max).default(300),
  GRID_TIMEOUT_MS: integer(100, 60_000).default(5000),
  GRID_STALE_MAX_AGE_SECONDS: integer(STALE_MAX_AGE_SECONDS.min, STALE_MAX_AGE_SECONDS.max).default(
    DEFAULT_STALE_MAX_AGE_SECONDS,
  ),
  GRID_OTHER_ZONE_LOOKUPS_PER_HOUR: integer(1, 1_000_000).default(
    DEFAULT_OTHER_ZONE_LOOKUPS_PER_HOUR,
  ),
  GRID_SHARE: z.enum(GRID_SHARE_MODES).default('host'),
  CARBON_INTENSITY: number(0, MAX_CARBON_INTENSITY).optional(),
  PUE: number(1, 5).default(1.0),
  ENERGY_SOURCE: z.enum(ENERGY_SOURCES).default('auto'),
  ENERGY_SAMPLE_INTERVAL_MS: integer(50, 60_000).default(1000),
  ENERGY_POWERCAP_ROOT: z.string().min(1).default('/sys/class/powercap'),
  ENERGY_ATTRIBUTION: z.enum(ATTRIBUTION_MODES).default('dynamic'),
  ENERGY_OPERATION_ATTRIBUTION: z.enum(OPERATION_ATTRIBUTION_MODES).default('calibrated'),
  ENERGY_CALIBRATION_INTERVAL_MS: integer(1000, 3_600_000).default(DEFAULT_CALIBRATION_INTERVAL_MS),
  // A week at most: an operation that runs longer is no request or job the shares can follow.
  ENERGY_OPERATION_MAX_AGE_MS: integer(1000, 604_800_000).default(DEFAULT_MAX_OPERATION_AGE_MS),
  ENERGY_OPERATION_MAX_NAMES: integer(1, MAX_OPERATION_NAMES_LIMIT).default(
    DEFAULT_MAX_OPERATION_NAMES,
  ),
  ENERGY_CPU_MODEL: z.enum(['linear', 'tdp']).default('linear'),
  ENERGY_CPU_MIN_WATTS_PER_VCPU: number(0, 1000).default(AWS_MIN_WATTS_PER_VCPU),
  ENERGY_CPU_MAX_WATTS_PER_VCPU: wattsSetting(1000).default(AWS_MAX_WATTS_PER_VCPU),
  ENERGY_CPU_TDP_WATTS: wattsSetting(10_000).optional(),
  ENERGY_RAM_WATTS_PER_GB: number(0, 100).default(RAM_WATTS_PER_GB),
  EMBODIED_PROFILE: z.enum(EMBODIED_PROFILES).default('server'),
  // TE and EL: the profile's when unset. TE 0 leaves embodied emissions out.
  EMBODIED_KGCO2E: number(EMBODIED_LIMITS.totalKg.min, EMBODIED_LIMITS.totalKg.max).optional(),
  EMBODIED_LIFETIME_YEARS: number(
    EMBODIED_LIMITS.lifetimeYears.min,
    EMBODIED_LIMITS.lifetimeYears.max,
  ).optional(),
  // ToR and RR: the profile's host, else the machine seen as the whole host.
  EMBODIED_HOST_VCPUS: integer(
    EMBODIED_LIMITS.hostVcpus.min,
    EMBODIED_LIMITS.hostVcpus.max,
  ).optional(),
  EMBODIED_RESERVED_VCPUS: integer(
    EMBODIED_LIMITS.reservedVcpus.min,
    EMBODIED_LIMITS.reservedVcpus.max,
  ).optional(),
  KEPLER_METRICS_URL: endpoint.optional(),
  KEPLER_PROMETHEUS_URL: endpoint.optional(),
  KEPLER_CONTAINER_ID: z
    .string()
    .regex(/^([a-z0-9-]+:\/\/)?[0-9a-f]{12,64}$/i, 'expected a container id (12 to 64 hex digits)')
    .optional(),
  SCAPHANDRE_METRICS_URL: endpoint.optional(),
  SCAPHANDRE_PROMETHEUS_URL: endpoint.optional(),
  ENERGY_EXPORTER_INTERVAL_MS: integer(EXPORTER_INTERVAL_MS.min, EXPORTER_INTERVAL_MS.max).default(
    5000,
  ),
  ENERGY_EXPORTER_TIMEOUT_MS: integer(EXPORTER_TIMEOUT_MS.min, EXPORTER_TIMEOUT_MS.max).default(
    2000,
  ),
  POD_NAME: k8sName.optional(),
  POD_NAMESPACE: k8sName.optional(),
  POD_UID: z
    .string()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'expected a pod UID')
    .optional(),
  CONTAINER_NAME: k8sName.optional(),
  // The semantic conventions' override of the known HTTP methods: a full list, not additions.
  OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: z
    .string()
    .regex(
      /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}){0,63}$/,
      'expected up to 64 comma-separated HTTP method names (GET,POST,PROPFIND)',
    )
    .transform((list) => list.split(',').map((m) => m.trim()))
    .optional(),
} satisfies Record<string, z.ZodType>;

/** The environment variables carbonscope's settings are read from, the key's older name too. */
export const SETTING_NAMES: readonly string[] = [...Object.keys(schema), 'ELECTRICITY_MAP_API_KEY'];

type Parsed<S extends Record<string, z.ZodType>> = { [K in keyof S]: z.output<S[K]> };

export interface GridSettings {
  zone: string;
  apiKey: string | undefined;
  baseUrl: string;
  cacheTtlMs: number;
  timeoutMs: number;
  /** The oldest an Electricity Maps value, counted from its `datetime`, prices: stale, or late. */
  maxStaleMs: number;
  /** Lookups an hour for zones other than `zone`, which is never limited. */
  otherZoneLookupsPerHour: number;
  /**
   * `process`: this process keeps its values and rate-limit holds to itself; `host` (and left
   * out, as settings built before it were): shared with the host's other processes on the key.
   */
  share?: (typeof GRID_SHARE_MODES)[number];
  fixedIntensity: number | undefined;
}

export interface EnergySettings {
  source: (typeof ENERGY_SOURCES)[number];
  /**
   * The option that chose `source`, where one did (the CLI's `--source`): its messages name it,
   * not ENERGY_SOURCE, which the user may never have set.
   */
  sourceOption?: string;
  sampleIntervalMs: number;
  powercapRoot: string;
  attribution: (typeof ATTRIBUTION_MODES)[number];
  /** How operations share the process's energy (see EnergyTracker). */
  operationAttribution: (typeof OPERATION_ATTRIBUTION_MODES)[number];
  /** `calibrated`: how often a calibration window opens. */
  calibrationIntervalMs: number;
  /** How long an operation may run before it is dropped from sharing (see EnergyTracker.drop). */
  operationMaxAgeMs: number;
  /**
   * Operation names the `carbonscope.operation` (and `http.route`) label keeps over the process's
   * life, first come first served; the rest are `other`. DEFAULT_MAX_OPERATION_NAMES when absent.
   */
  operationMaxNames?: number;
  pue: number;
  cpuModel: 'linear' | 'tdp';
  cpuMinWattsPerVcpu: number;
  cpuMaxWattsPerVcpu: number;
  cpuTdpWatts: number | undefined;
  ramWattsPerGb: number;
  /** ENERGY_SOURCE=kepler, or auto with one of its URLs set. */
  kepler: ExporterEndpoint & { containerId: string | undefined };
  scaphandre: ExporterEndpoint;
  /** How often an exporter is read, and how long one read may take. */
  exporter: { intervalMs: number; timeoutMs: number };
  /** This pod as the downward API describes it (POD_NAME, POD_NAMESPACE, POD_UID, CONTAINER_NAME). */
  pod: { name?: string; namespace?: string; uid?: string; containerName?: string };
}

/** Where an exporter's figures are read: its own /metrics, or Prometheus' query API. */
export interface ExporterEndpoint {
  metricsUrl: string | undefined;
  prometheusUrl: string | undefined;
}

export interface Settings {
  grid: GridSettings;
  energy: EnergySettings;
  /** The host's embodied emissions and the share of it this deployment reserves (SCI's M). */
  embodied: EmbodiedSettings;
  /** The methods `http.request.method` names (OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS); the conventions' own when absent. */
  http: { knownMethods: readonly string[] | undefined };
}

const REDACTED = '[redacted]';

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
      const reason = refusal(result.error.issues[0], value);
      // A key never goes into an error (nor logs), nor a URL's user:password and secret
      // parameters; the rest of a value is what the user has to see to fix it.
      const shown = raw === undefined ? raw : isSecretName(name) ? REDACTED : maskUrlText(raw);
      throw new SettingsError(name, `${reason} (got ${quotedSetting(shown)})`);
    }
    out[name] = result.data;
  }
  return out as Parsed<S>;
}

/**
 * Why a value was refused: a choice's in one form for every variable, with the choice it likely
 * meant (`RAPL` for rapl), not zod's `Invalid option: expected one of "auto"|"rapl"|...`.
 */
function refusal(issue: z.core.$ZodIssue | undefined, value: string | undefined): string {
  if (issue?.code !== 'invalid_value' || value === undefined) {
    return issue?.message ?? 'invalid value';
  }
  // A schema's own words (`expected gzip or none`) are kept; zod's default is replaced.
  const own = issue.message.startsWith('Invalid option') ? undefined : issue.message;
  return expectedChoice(value, issue.values.map(String), own);
}

/**
 * `expected one of a, b, c`, with the choice `value` likely meant (`; did you mean rapl?`):
 * for the settings and the CLI's options alike.
 */
export function expectedChoice(
  value: string,
  choices: readonly string[],
  expected = `expected one of ${choices.join(', ')}`,
): string {
  const meant = nearestName(value, choices);
  return `${expected}${meant ? `; did you mean ${meant}?` : ''}`;
}

/** The most characters of a refused setting a message quotes: a file pasted whole is no line. */
const QUOTED_SETTING = 100;

/** A refused value as a message quotes it: in JSON quotes, cut short; for the OTel checks too. */
export function quotedSetting(value: string | undefined): string {
  return value === undefined ? 'nothing' : quotedText(value, QUOTED_SETTING);
}

/** A field of Settings that holds a variable's value as it is (no unit changed), and its type. */
/** A field's variable, its type, and `optional` where the field may be left out (undefined). */
type FieldRule =
  | readonly [keyof typeof schema, 'number' | 'string']
  | readonly [keyof typeof schema, 'number' | 'string', 'optional'];

/**
 * The fields of Settings checked by the rules of the variable each comes from; not those in
 * milliseconds (MILLISECOND_FIELDS), whose variables count in seconds or whose range differs.
 */
const FIELD_VARIABLES = {
  grid: {
    zone: ['CARBON_ZONE', 'string'],
    timeoutMs: ['GRID_TIMEOUT_MS', 'number'],
    otherZoneLookupsPerHour: ['GRID_OTHER_ZONE_LOOKUPS_PER_HOUR', 'number'],
    share: ['GRID_SHARE', 'string', 'optional'],
    fixedIntensity: ['CARBON_INTENSITY', 'number', 'optional'],
  },
  energy: {
    source: ['ENERGY_SOURCE', 'string'],
    attribution: ['ENERGY_ATTRIBUTION', 'string'],
    operationAttribution: ['ENERGY_OPERATION_ATTRIBUTION', 'string'],
    calibrationIntervalMs: ['ENERGY_CALIBRATION_INTERVAL_MS', 'number'],
    operationMaxAgeMs: ['ENERGY_OPERATION_MAX_AGE_MS', 'number'],
    operationMaxNames: ['ENERGY_OPERATION_MAX_NAMES', 'number', 'optional'],
    pue: ['PUE', 'number'],
    cpuModel: ['ENERGY_CPU_MODEL', 'string'],
    cpuMinWattsPerVcpu: ['ENERGY_CPU_MIN_WATTS_PER_VCPU', 'number'],
    cpuMaxWattsPerVcpu: ['ENERGY_CPU_MAX_WATTS_PER_VCPU', 'number'],
    cpuTdpWatts: ['ENERGY_CPU_TDP_WATTS', 'number', 'optional'],
    ramWattsPerGb: ['ENERGY_RAM_WATTS_PER_GB', 'number'],
  },
} as const satisfies {
  [G in 'grid' | 'energy']: Partial<Record<keyof Settings[G], FieldRule>>;
};

/**
 * The sample interval given in code: ENERGY_SAMPLE_INTERVAL_MS's minimum, and at most the hour
 * the CLI's --interval reaches (the variable's own minute would refuse that).
 */
export const SAMPLE_INTERVAL_MS = { min: 50, max: 3_600_000 } as const;

/** A field of Settings in milliseconds: where it is, the variable it comes from, its range. */
interface MillisecondField {
  readonly field: string;
  readonly variable: keyof typeof schema;
  readonly range: { readonly min: number; readonly max: number };
  readonly value: (settings: Settings) => unknown;
}

const seconds = ({ min, max }: { min: number; max: number }) => ({
  min: min * 1000,
  max: max * 1000,
});

/**
 * Not a variable's rule as it is (the unit or the range differs), so checked apart: NaN, 0 or -1
 * made a timer fire every millisecond (the meter's; an exporter's reads, 527 a second for NaN),
 * and a cache or stale limit of NaN kept nothing. `?.`: a group plain JavaScript left out.
 */
const MILLISECOND_FIELDS: readonly MillisecondField[] = [
  {
    field: 'grid.cacheTtlMs',
    variable: 'GRID_CACHE_TTL_SECONDS',
    range: seconds(CACHE_TTL_SECONDS),
    value: (s) => s.grid.cacheTtlMs,
  },
  {
    field: 'grid.maxStaleMs',
    variable: 'GRID_STALE_MAX_AGE_SECONDS',
    range: seconds(STALE_MAX_AGE_SECONDS),
    value: (s) => s.grid.maxStaleMs,
  },
  {
    field: 'energy.sampleIntervalMs',
    variable: 'ENERGY_SAMPLE_INTERVAL_MS',
    range: SAMPLE_INTERVAL_MS,
    value: (s) => s.energy.sampleIntervalMs,
  },
  {
    field: 'energy.exporter.intervalMs',
    variable: 'ENERGY_EXPORTER_INTERVAL_MS',
    range: EXPORTER_INTERVAL_MS,
    value: (s) => s.energy.exporter?.intervalMs,
  },
  {
    field: 'energy.exporter.timeoutMs',
    variable: 'ENERGY_EXPORTER_TIMEOUT_MS',
    range: EXPORTER_TIMEOUT_MS,
    value: (s) => s.energy.exporter?.timeoutMs,
  },
];

function checkMilliseconds({ field, variable, range, value }: MillisecondField, s: Settings) {
  const { min, max } = range;
  const ms = value(s);
  if (typeof ms === 'number' && Number.isInteger(ms) && ms >= min && ms <= max) return;
  throw new RangeError(
    `settings.${field} (${variable}): expected a whole number of milliseconds, from ${min} to ` +
      `${max} (got ${shownValue(ms)})`,
  );
}

/**
 * Throws a RangeError naming the first field of settings built in code that its variable's
 * rules refuse: taken as they came, a PUE of NaN or an intensity of -300 priced every joule at
 * 0 g without a word. An optional field left out is fine; embodied figures have their own check.
 */
export function checkSettings(settings: Settings): void {
  // A group left out (plain JavaScript's `{ zone: 'DE' }`) failed as a destructuring deep in the
  // start, naming nothing.
  for (const group of ['grid', 'energy', 'embodied', 'http'] as const) {
    const value: unknown = settings[group];
    if (typeof value !== 'object' || value === null) {
      throw new TypeError(
        `settings.${group} must be an object (loadSettings() builds settings whole; got ` +
          `${typeOf(value)})`,
      );
    }
  }
  for (const group of ['grid', 'energy'] as const) {
    const values: Readonly<Record<string, unknown>> = { ...settings[group] };
    for (const [field, rule] of Object.entries<FieldRule>(FIELD_VARIABLES[group])) {
      const [variable, type, optional] = rule;
      const value = values[field];
      // Only where the type allows it: a PUE left out priced every joule at 0 g, as NaN did.
      if (value === undefined && optional) continue;
      // Written as the environment would: a string where a number belongs is refused as such.
      const result = typeof value === type ? schema[variable].safeParse(String(value)) : undefined;
      if (!result?.success) {
        const reason = result?.error.issues[0]?.message ?? `expected a ${type}`;
        throw new RangeError(
          `settings.${group}.${field} (${variable}): ${reason} (got ${shownValue(value)})`,
        );
      }
    }
  }
  for (const rule of MILLISECOND_FIELDS) checkMilliseconds(rule, settings);
}

/**
 * A whole-number variable parseEnv already checked (integerSetting), or `fallback` when it is
 * unset: for code that reads one where the parsed settings do not reach (the exporters' variables).
 */
export function checkedInteger(env: Env, name: string, fallback: number): number {
  const value = env[name]?.trim();
  return value ? Number(value) : fallback;
}

/**
 * The per-vCPU minimum may not exceed the maximum. The error names the variable the user set
 * (the minimum where both are), and the other's value, marked where it is the default: a user who
 * set only the maximum is not told to fix a minimum they never wrote.
 */
function checkWattsPerVcpu(env: Env, min: number, max: number): void {
  if (min <= max) return;
  // As in parseEnv, a blank variable is unset.
  const given = (name: string) => Boolean(env[name]?.trim());
  const shown = (value: number, name: string) =>
    given(name) ? `${value}` : `${value}, its default`;
  if (!given('ENERGY_CPU_MIN_WATTS_PER_VCPU')) {
    throw new SettingsError(
      'ENERGY_CPU_MAX_WATTS_PER_VCPU',
      `${max} W is under ENERGY_CPU_MIN_WATTS_PER_VCPU (${shown(min, 'ENERGY_CPU_MIN_WATTS_PER_VCPU')}): set the minimum too`,
    );
  }
  throw new SettingsError(
    'ENERGY_CPU_MIN_WATTS_PER_VCPU',
    `${min} W is over ENERGY_CPU_MAX_WATTS_PER_VCPU (${shown(max, 'ENERGY_CPU_MAX_WATTS_PER_VCPU')})`,
  );
}

/** carbonscope's settings from the environment (CARBON_*, ENERGY_*, PUE, GRID_*, Electricity Maps). */
export function loadSettings(env: Env = process.env): Settings {
  checkKeyNames(env);
  const s = parseKeyAs(keyName(env), () =>
    parseEnv(schema, { ...env, ELECTRICITY_MAPS_API_KEY: electricityMapsKey(env) }),
  );
  // Without a fixed intensity an unknown zone would start and price every joule at nothing.
  if (s.CARBON_INTENSITY === undefined && zoneKind(s.CARBON_ZONE) === 'unknown') {
    throw new SettingsError(
      'CARBON_ZONE',
      `unknown zone ${JSON.stringify(s.CARBON_ZONE)}: neither the Electricity Maps zone list nor the ISO country codes know it (GB, not UK; a country or a zone such as DE, FR, US-CAL-CISO), or set CARBON_INTENSITY`,
    );
  }
  checkWattsPerVcpu(env, s.ENERGY_CPU_MIN_WATTS_PER_VCPU, s.ENERGY_CPU_MAX_WATTS_PER_VCPU);
  for (const [name, metrics, prometheus] of [
    ['KEPLER', s.KEPLER_METRICS_URL, s.KEPLER_PROMETHEUS_URL],
    ['SCAPHANDRE', s.SCAPHANDRE_METRICS_URL, s.SCAPHANDRE_PROMETHEUS_URL],
  ] as const) {
    if (metrics && prometheus) {
      throw new SettingsError(
        `${name}_PROMETHEUS_URL`,
        `set either ${name}_METRICS_URL or ${name}_PROMETHEUS_URL, not both`,
      );
    }
    if (s.ENERGY_SOURCE === name.toLowerCase() && !metrics && !prometheus) {
      throw new SettingsError(
        'ENERGY_SOURCE',
        `${s.ENERGY_SOURCE} needs ${name}_METRICS_URL (its /metrics) or ${name}_PROMETHEUS_URL`,
      );
    }
  }
  return {
    embodied: embodiedSettings(s),
    grid: {
      zone: s.CARBON_ZONE,
      apiKey: s.ELECTRICITY_MAPS_API_KEY,
      // As written: joinedUrl drops its path's trailing slashes, and a query's are its own.
      baseUrl: s.ELECTRICITY_MAPS_BASE_URL,
      cacheTtlMs: s.GRID_CACHE_TTL_SECONDS * 1000,
      timeoutMs: s.GRID_TIMEOUT_MS,
      maxStaleMs: s.GRID_STALE_MAX_AGE_SECONDS * 1000,
      otherZoneLookupsPerHour: s.GRID_OTHER_ZONE_LOOKUPS_PER_HOUR,
      share: s.GRID_SHARE,
      fixedIntensity: s.CARBON_INTENSITY,
    },
    energy: {
      source: s.ENERGY_SOURCE,
      sampleIntervalMs: s.ENERGY_SAMPLE_INTERVAL_MS,
      powercapRoot: s.ENERGY_POWERCAP_ROOT,
      attribution: s.ENERGY_ATTRIBUTION,
      operationAttribution: s.ENERGY_OPERATION_ATTRIBUTION,
      calibrationIntervalMs: s.ENERGY_CALIBRATION_INTERVAL_MS,
      operationMaxAgeMs: s.ENERGY_OPERATION_MAX_AGE_MS,
      operationMaxNames: s.ENERGY_OPERATION_MAX_NAMES,
      pue: s.PUE,
      cpuModel: s.ENERGY_CPU_MODEL,
      cpuMinWattsPerVcpu: s.ENERGY_CPU_MIN_WATTS_PER_VCPU,
      cpuMaxWattsPerVcpu: s.ENERGY_CPU_MAX_WATTS_PER_VCPU,
      cpuTdpWatts: s.ENERGY_CPU_TDP_WATTS,
      ramWattsPerGb: s.ENERGY_RAM_WATTS_PER_GB,
      kepler: {
        metricsUrl: s.KEPLER_METRICS_URL,
        prometheusUrl: s.KEPLER_PROMETHEUS_URL,
        containerId: s.KEPLER_CONTAINER_ID,
      },
      scaphandre: {
        metricsUrl: s.SCAPHANDRE_METRICS_URL,
        prometheusUrl: s.SCAPHANDRE_PROMETHEUS_URL,
      },
      exporter: {
        intervalMs: s.ENERGY_EXPORTER_INTERVAL_MS,
        timeoutMs: s.ENERGY_EXPORTER_TIMEOUT_MS,
      },
      pod: {
        name: s.POD_NAME,
        namespace: s.POD_NAMESPACE,
        uid: s.POD_UID,
        containerName: s.CONTAINER_NAME,
      },
    },
    http: { knownMethods: s.OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS },
  };
}

/**
 * TE, EL, ToR and RR from the EMBODIED_* variables over the profile's figures. Without a host
 * size, the machine seen is the whole host and all of it reserved. The machine seen is every
 * logical CPU, not os.availableParallelism(): a cpuset (a pinned container, taskset) cuts the
 * latter, while the process's part of M is its CPU time over all of them (/proc/stat's), so a
 * process pinned to 1 of 2 cores got half its M under `cloud-vcpu`. Only where os.cpus() lists
 * none (/proc mounted subset=pid) is availableParallelism() the machine seen: nearer than 1.
 */
function embodiedSettings(s: Parsed<typeof schema>): EmbodiedSettings {
  const figures = EMBODIED_PROFILE_FIGURES[s.EMBODIED_PROFILE];
  const seen = logicalCpus();
  const hostVcpus = s.EMBODIED_HOST_VCPUS ?? figures.hostVcpus ?? seen;
  const reservedVcpus = s.EMBODIED_RESERVED_VCPUS ?? Math.min(seen, hostVcpus);
  if (reservedVcpus > hostVcpus) {
    throw new SettingsError(
      'EMBODIED_RESERVED_VCPUS',
      `${reservedVcpus} reserved vCPUs exceed the host's ${hostVcpus} (EMBODIED_HOST_VCPUS)`,
    );
  }
  const own = s.EMBODIED_KGCO2E !== undefined || s.EMBODIED_LIFETIME_YEARS !== undefined;
  return {
    profile: s.EMBODIED_PROFILE,
    totalKg: s.EMBODIED_KGCO2E ?? figures.totalKg,
    lifetimeYears: s.EMBODIED_LIFETIME_YEARS ?? figures.lifetimeYears,
    hostVcpus,
    reservedVcpus,
    source: own
      ? `EMBODIED_KGCO2E / EMBODIED_LIFETIME_YEARS as set, else the ${s.EMBODIED_PROFILE} profile's: ${figures.source}`
      : figures.source,
  };
}

/** The Electricity Maps key's names, the older ELECTRICITY_MAP_API_KEY last. */
const KEY_NAMES = ['ELECTRICITY_MAPS_API_KEY', 'ELECTRICITY_MAP_API_KEY'] as const;

/** Not blank: a blank value counts as unset (parseEnv), so it must not hide the older name's. */
function isSet(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** The variable the key comes from: the first of KEY_NAMES not blank. */
function keyName(env: Env): (typeof KEY_NAMES)[number] | undefined {
  return KEY_NAMES.find((name) => isSet(env[name]));
}

/**
 * Both names set to different keys: one would be sent and the other never used, without a word
 * of which (a key left in .env under the old name, say). Neither key is shown.
 */
function checkKeyNames(env: Env): void {
  const [own, older] = KEY_NAMES.map((name) => env[name]?.trim());
  if (own && older && own !== older) {
    throw new SettingsError(
      'ELECTRICITY_MAP_API_KEY',
      'set either ELECTRICITY_MAPS_API_KEY or its older name ELECTRICITY_MAP_API_KEY, not both: they hold different keys',
    );
  }
}

/**
 * The Electricity Maps key, under its name or the older ELECTRICITY_MAP_API_KEY, trimmed as
 * parseEnv trims it: envSecretsOf masked `key\n` (a key read from a file), never the key sent.
 */
function electricityMapsKey(env: Env): string | undefined {
  const name = keyName(env);
  return name === undefined ? undefined : env[name]?.trim();
}

/**
 * Runs `parse`, its error about the key named after the variable the key came from: a key set as
 * ELECTRICITY_MAP_API_KEY was refused under the other name, which the user never set.
 */
function parseKeyAs<T>(name: string | undefined, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const own = 'ELECTRICITY_MAPS_API_KEY';
    if (!(err instanceof SettingsError) || err.variable !== own || !name || name === own) {
      throw err;
    }
    throw new SettingsError(name, err.message.slice(own.length + 2));
  }
}

/**
 * The grid's secrets: its API key, from MIN_MASKED_SECRET_LENGTH on (shortKeyWarning says so of
 * a shorter one), and what of its base URL's credentials must not be shown.
 */
function gridSecrets(apiKey: string | undefined, baseUrl: string | undefined): string[] {
  return [...(maskableSecret(apiKey) ? [apiKey] : []), ...urlSecrets(baseUrl)];
}

/**
 * Every secret value of the settings, for redaction of free text: the grid's, and the secret
 * parameters of the energy exporters' URLs (`?token=`, which a Prometheus behind a proxy takes).
 */
export function secretsOf(settings: Settings): string[] {
  const { kepler, scaphandre } = settings.energy;
  return [
    ...gridSecrets(settings.grid.apiKey, settings.grid.baseUrl),
    ...[kepler, scaphandre].flatMap((e) => [e.metricsUrl, e.prometheusUrl]).flatMap(urlSecrets),
  ];
}

/**
 * The secrets carbonscope knows once its settings are loaded: theirs (secretsOf), and the OTLP
 * exporters', always read from `env` as the exporters read them (otlpSecretsOf).
 */
export function loadedSecretsOf(settings: Settings, env: Env): string[] {
  return [...secretsOf(settings), ...otlpSecretsOf(env)];
}

/** The energy exporters' URL settings, whose query may hold a key (secretsOf). */
const EXPORTER_URLS = [
  'KEPLER_METRICS_URL',
  'KEPLER_PROMETHEUS_URL',
  'SCAPHANDRE_METRICS_URL',
  'SCAPHANDRE_PROMETHEUS_URL',
] as const;

/**
 * The secrets of the environment as it is, for a logger made before the settings are loaded
 * (`register`, the instrumentation, `Carbonscope.create` without a logger of its own): those
 * secretsOf takes, read from the variables as written, and the OTLP exporters' (otlpSecretsOf).
 * It never throws: a setting that fails to load is reported through that logger.
 */
export function envSecretsOf(env: Env): string[] {
  return [
    ...gridSecrets(electricityMapsKey(env), env.ELECTRICITY_MAPS_BASE_URL),
    ...EXPORTER_URLS.flatMap((name) => urlSecrets(env[name])),
    ...otlpSecretsOf(env),
  ];
}

const OTLP_SIGNALS = ['', 'METRICS_', 'TRACES_', 'LOGS_'];

/**
 * The secrets of the standard OTLP exporter variables, which are the exporters' and not
 * settings: the credentials of each OTEL_EXPORTER_OTLP_*ENDPOINT (and the Zipkin one), and each
 * value of OTEL_EXPORTER_OTLP_*HEADERS (`key=value,...`) from MIN_MASKED_VALUE_LENGTH on
 * (headerSecrets): a shorter one (a tenant id such as `1`) may be no credential.
 */
export function otlpSecretsOf(env: Env): string[] {
  return [
    ...OTLP_SIGNALS.flatMap((signal) => [
      ...urlSecrets(env[`OTEL_EXPORTER_OTLP_${signal}ENDPOINT`]),
      ...headerSecrets(env[`OTEL_EXPORTER_OTLP_${signal}HEADERS`]),
    ]),
    // The other span exporter NodeSDK builds (OTEL_TRACES_EXPORTER=zipkin): at debug it logs a
    // refusing server's body, which may echo its URL and `Authorization: Basic`.
    ...urlSecrets(env.OTEL_EXPORTER_ZIPKIN_ENDPOINT),
  ];
}

/**
 * Each header's value as written, decoded, and as the SDK sends it, which reads the variable as
 * baggage: decoded, and without what follows a `;` (metadata to it); each of those also without
 * its scheme (`Bearer `), which ends at a space or a tab.
 */
function headerSecrets(headers: string | undefined): string[] {
  if (!headers) return [];
  return headers.split(',').flatMap((entry) => {
    const equals = entry.indexOf('=');
    if (equals === -1) return [];
    const raw = entry.slice(equals + 1).trim();
    const sent = percentDecoded(raw.split(';')[0].trim());
    const values = [raw, percentDecoded(raw), sent];
    return [...values, ...values.map(withoutScheme)].filter(maskableValue);
  });
}

/** A header value's credentials: what follows its first space or tab (`Bearer <token>`). */
function withoutScheme(value: string): string {
  const blank = value.search(/[ \t]/);
  return blank === -1 ? value : value.slice(blank + 1).trim();
}
