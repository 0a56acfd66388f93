import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { z } from 'zod';
import { cutText } from '../shown-value.js';
import { ModelDataError } from './errors.js';
import type { DataCenter, Deployment, ElectricityMix, ModelArchitecture } from './impacts.js';
import { toRange } from './impacts.js';
import { WARNING_CODES, type WarningCode } from './status.js';

export interface ModelEntry {
  provider: string;
  name: string;
  architecture: ModelArchitecture;
  deployment?: Deployment;
  warnings: WarningCode[];
}

export interface ProviderEntry {
  name: string;
  /** The electricity-mix zone of its data centres (alpha-3, or WOR). */
  zone: string;
  dataCenter: DataCenter;
}

export interface MixEntry extends ElectricityMix {
  /** Factors of this zone that fall back to the world value. */
  warnings: WarningCode[];
}

/** One data file, validated: the bundled ones or a user's LLM_MODELS_FILE. */
export interface ParsedFile {
  file: string;
  models: ModelEntry[];
  providers: ProviderEntry[];
  mixes: Map<string, MixEntry>;
}

/** An electricity-mix zone: ISO 3166-1 alpha-3, or WOR for the world. */
export const ZONE_KEY = /^[A-Z]{3}$/;

/**
 * Upper (and for a throughput lower) bounds, each far past any real figure (the bundled data's
 * largest in brackets): within them every figure of a request of up to 2^53 - 1 tokens is a
 * finite number, where 1e307 billion parameters or a throughput of 1e-300 priced it at Infinity.
 */
const LIMITS = {
  /** Billions [5,400]: a million billion parameters. */
  parameters: 1_000_000,
  /** Tokens per second, at least [6]. */
  minTps: 0.001,
  /** Seconds [21.8]: an hour. */
  ttft: 3600,
  /** [1.2] */
  pue: 10,
  /** L/kWh [0.999] */
  wueOnsite: 100,
  /** Per kWh: kgCO2eq [1.31], kgSbeq [2.7e-7], MJ [23.3], L [18.6]. */
  mix: { gwp: 10, adpe: 1, pe: 100, wue: 1000 },
} as const;

const bounded = (max: number) => z.number().positive().max(max);
const rangeOf = (value: z.ZodNumber) =>
  z
    .object({ min: value, max: value })
    .strict()
    .refine((r) => r.min <= r.max, 'min must not exceed max');
const orRange = (value: z.ZodNumber) => z.union([value, rangeOf(value)]);
const valueOrRange = orRange(bounded(LIMITS.parameters));
const warnings = z.array(z.enum(WARNING_CODES)).optional();
const deployment = z
  .object({
    tps: z.number().min(LIMITS.minTps).finite().optional(),
    ttft: z.number().min(0).max(LIMITS.ttft).optional(),
  })
  .strict()
  .optional();

/** A model's or provider's name: printed as it is (the CLI's report, /chat), so no controls. */
const label = z
  .string()
  .min(1)
  .regex(/^\P{Cc}+$/u, 'expected no control characters');

/**
 * A provider's name: a model is named `provider/model`, cut at the first slash (`-m`, /chat's
 * `model`), so `my/org` could never be named: `my/org/tiny` reads as provider `my`.
 */
const providerName = label.regex(/^[^/]+$/, 'expected no "/" (a model is named provider/model)');

const common = {
  provider: providerName,
  name: label,
  warnings,
  deployment,
};

const modelSchema = z.discriminatedUnion('architecture', [
  z.object({ ...common, architecture: z.literal('dense'), parameters: valueOrRange }).strict(),
  z
    .object({
      ...common,
      architecture: z.literal('moe'),
      parameters: z
        .object({ total: valueOrRange, active: valueOrRange })
        .strict()
        .refine((p) => {
          const total = toRange(p.total);
          const active = toRange(p.active);
          return active.min <= total.min && active.max <= total.max;
        }, 'active parameters must not exceed total parameters'),
    })
    .strict(),
]);

const providerSchema = z
  .object({
    name: providerName,
    zone: z.string().regex(ZONE_KEY, 'expected an alpha-3 mix zone such as USA'),
    pue: orRange(bounded(LIMITS.pue)).refine((v) => toRange(v).min >= 1, 'PUE must be at least 1'),
    wueOnsite: orRange(z.number().min(0).max(LIMITS.wueOnsite)),
  })
  .strict();

const factor = (max: number) => z.number().min(0).max(max);
const { gwp, adpe, pe, wue } = LIMITS.mix;
const mixSchema = z
  .object({ gwp: factor(gwp), adpe: factor(adpe), pe: factor(pe), wue: factor(wue), warnings })
  .strict();

const fileSchema = z.object({
  source: z.string().optional(),
  units: z.string().optional(),
  models: z.array(z.unknown()).optional(),
  providers: z.array(z.unknown()).optional(),
  mixes: z.record(z.string(), z.unknown()).optional(),
});

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid entry';
  const at = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${at}${issue.message}`;
}

/** The most characters of a provider's or model's name an error quotes. */
export const LABELLED = 40;

function entryLabel(raw: unknown): string {
  if (raw && typeof raw === 'object') {
    const r = raw as Record<string, unknown>;
    // Cut: a megabyte-long name made a megabyte-long start-up error.
    const name = typeof r.name === 'string' ? cutText(r.name, LABELLED) : undefined;
    const provider = typeof r.provider === 'string' ? cutText(r.provider, LABELLED) : undefined;
    if (provider && name) return ` (${provider}/${name})`;
    if (name) return ` (${name})`;
  }
  return '';
}

/** Validates entries one by one, so an error names the entry at fault. */
function parseEach<T>(file: string, what: string, raw: unknown[], schema: z.ZodType<T>): T[] {
  return raw.map((entry, i) => {
    const result = schema.safeParse(entry);
    if (!result.success) {
      throw new ModelDataError(
        file,
        `${what}[${i}]${entryLabel(entry)}: ${describeIssue(result.error)}`,
      );
    }
    return result.data;
  });
}

function toModel(m: z.output<typeof modelSchema>): ModelEntry {
  const architecture: ModelArchitecture =
    m.architecture === 'dense'
      ? { type: 'dense', parameters: m.parameters }
      : { type: 'moe', total: m.parameters.total, active: m.parameters.active };
  const entry: ModelEntry = {
    provider: m.provider,
    name: m.name,
    architecture,
    warnings: m.warnings ?? [],
  };
  if (m.deployment) entry.deployment = m.deployment;
  return entry;
}

/**
 * The largest data file read: the bundled data (every model EcoLogits knows) is 80 kB, so 16 MiB
 * holds any hand-made or generated list many times over, and is read and parsed in well under a
 * second at start-up.
 */
const MAX_DATA_FILE_BYTES = 16 * 1024 * 1024;

/**
 * The file's text, from a regular file of at most MAX_DATA_FILE_BYTES. Read whole, /dev/zero
 * never ends and a FIFO without a writer never opens: start-up would hang. O_NONBLOCK lets a FIFO
 * open at once, so fstat can refuse it; a regular file reads as usual.
 */
function readBounded(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MAX_DATA_FILE_BYTES) {
      throw new Error(`over ${MAX_DATA_FILE_BYTES / 2 ** 20} MiB (${stat.size} bytes)`);
    }
    // One byte more than fstat said, so a file that grew since is seen and refused too.
    const buffer = Buffer.alloc(stat.size + 1);
    let length = 0;
    let n: number;
    do {
      n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
    } while (n > 0 && length < buffer.length);
    if (length > stat.size) throw new Error('grew while being read');
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * One LLM data file (the bundled tables, or your extra models file; a bare array is a list of
 * models), read and checked: a ModelDataError names the file and the entry at fault.
 */
export function readDataFile(file: string): ParsedFile {
  let text: string;
  try {
    text = readBounded(file);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ModelDataError(file, `cannot read: ${reason}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // Read, and not parsed: `cannot read` sent the user to the file's permissions.
    throw new ModelDataError(file, `not JSON: ${(err as Error).message}`);
  }
  // A bare array is accepted as a list of models: the simplest file a user can write.
  const shaped = fileSchema.safeParse(Array.isArray(json) ? { models: json } : json);
  if (!shaped.success) {
    throw new ModelDataError(
      file,
      `expected {"models": [...], "providers"?: [...], "mixes"?: {...}}: ${describeIssue(shaped.error)}`,
    );
  }
  const data = shaped.data;
  const models = parseEach(file, 'models', data.models ?? [], modelSchema).map(toModel);
  const seen = new Set<string>();
  for (const m of models) {
    const key = `${m.provider}/${m.name}`;
    if (seen.has(key))
      throw new ModelDataError(file, `model ${cutText(key, 2 * LABELLED + 1)} is listed twice`);
    seen.add(key);
  }
  const providers = parseEach(file, 'providers', data.providers ?? [], providerSchema).map((p) => ({
    name: p.name,
    zone: p.zone,
    dataCenter: { pue: p.pue, wueOnsite: p.wueOnsite },
  }));
  const mixes = new Map<string, MixEntry>();
  for (const [zone, raw] of Object.entries(data.mixes ?? {})) {
    if (!ZONE_KEY.test(zone))
      throw new ModelDataError(file, `mixes.${zone}: expected an alpha-3 zone key`);
    const result = mixSchema.safeParse(raw);
    if (!result.success)
      throw new ModelDataError(file, `mixes.${zone}: ${describeIssue(result.error)}`);
    const { warnings: codes, ...factors } = result.data;
    mixes.set(zone, { ...factors, warnings: codes ?? [] });
  }
  return { file, models, providers, mixes };
}
