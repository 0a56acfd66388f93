import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { dataFile } from '../paths.js';
import { ModelDataError, UnknownModelError, UnknownZoneError } from './errors.js';
import type {
  DataCenter,
  ElectricityMix,
  ModelArchitecture,
  Range,
  RangeOrNumber,
} from './impacts.js';
import { toRange } from './impacts.js';

/** A note attached to an estimate: why it is less certain than it looks. */
export interface ImpactWarning {
  code: string;
  message: string;
}

export interface ModelEntry {
  provider: string;
  name: string;
  architecture: ModelArchitecture;
  warnings: string[];
}

export interface ProviderEntry {
  name: string;
  zone: string;
  dataCenter: DataCenter;
}

/** Everything the method needs for one request, and the warnings that go with it. */
export interface Resolved {
  model: ModelEntry;
  zone: string;
  dataCenter: DataCenter;
  mix: ElectricityMix;
  warnings: ImpactWarning[];
}

/** The world mix the facts sheet prescribes for a provider without data-centre figures. */
export const DEFAULT_ZONE = 'WOR';

const positive = z.number().positive().finite();
const range = z
  .object({ min: positive, max: positive })
  .strict()
  .refine((r) => r.min <= r.max, 'min must not exceed max');
const rangeOrNumber = z.union([positive, range]);

const modelSchema = z.discriminatedUnion('architecture', [
  z
    .object({
      provider: z.string().min(1),
      name: z.string().min(1),
      architecture: z.literal('dense'),
      parameters: rangeOrNumber,
      warnings: z.array(z.string()).optional(),
    })
    .strict(),
  z
    .object({
      provider: z.string().min(1),
      name: z.string().min(1),
      architecture: z.literal('moe'),
      parameters: z
        .object({ total: rangeOrNumber, active: rangeOrNumber })
        .strict()
        .refine((p) => {
          const total = toRange(p.total);
          const active = toRange(p.active);
          return active.min <= total.min && active.max <= total.max;
        }, 'active parameters must not exceed total parameters'),
      warnings: z.array(z.string()).optional(),
    })
    .strict(),
]);

const providerSchema = z
  .object({
    name: z.string().min(1),
    zone: z.string().regex(/^[A-Z]{3}$/, 'expected an alpha-3 mix zone such as USA'),
    pue: rangeOrNumber.refine((v) => toRange(v).min >= 1, 'PUE must be at least 1'),
    wueOnsite: z.union([z.number().min(0).finite(), range]),
  })
  .strict();

const mixSchema = z
  .object({
    gwp: z.number().min(0).finite(),
    adpe: z.number().min(0).finite(),
    pe: z.number().min(0).finite(),
    wue: z.number().min(0).finite(),
  })
  .strict();

const fileSchema = z.object({
  source: z.string().optional(),
  models: z.array(z.unknown()).optional(),
  providers: z.array(z.unknown()).optional(),
  mixes: z.record(z.string(), z.unknown()).optional(),
});

type ModelData = z.output<typeof modelSchema>;

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid entry';
  const at = issue.path.length ? `${issue.path.join('.')}: ` : '';
  return `${at}${issue.message}`;
}

function entryLabel(raw: unknown): string {
  if (raw && typeof raw === 'object') {
    const r = raw as Record<string, unknown>;
    const name = typeof r.name === 'string' ? r.name : undefined;
    const provider = typeof r.provider === 'string' ? r.provider : undefined;
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

function toModel(m: ModelData): ModelEntry {
  const architecture: ModelArchitecture =
    m.architecture === 'dense'
      ? { type: 'dense', parameters: m.parameters }
      : { type: 'moe', total: m.parameters.total, active: m.parameters.active };
  return { provider: m.provider, name: m.name, architecture, warnings: m.warnings ?? [] };
}

interface ParsedFile {
  file: string;
  models: ModelEntry[];
  providers: ProviderEntry[];
  mixes: Map<string, ElectricityMix>;
}

function readDataFile(file: string): ParsedFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ModelDataError(file, `cannot read: ${reason}`);
  }
  // A bare array is accepted as a list of models: the simplest file a user can write.
  const shaped = fileSchema.safeParse(Array.isArray(json) ? { models: json } : json);
  if (!shaped.success) {
    throw new ModelDataError(
      file,
      `expected {"models": [...], "providers"?: [...]}: ${describeIssue(shaped.error)}`,
    );
  }
  const data = shaped.data;
  const models = parseEach(file, 'models', data.models ?? [], modelSchema).map(toModel);
  const seen = new Set<string>();
  for (const m of models) {
    const key = `${m.provider}/${m.name}`;
    if (seen.has(key)) throw new ModelDataError(file, `model ${key} is listed twice`);
    seen.add(key);
  }
  const providers = parseEach(file, 'providers', data.providers ?? [], providerSchema).map((p) => ({
    name: p.name,
    zone: p.zone,
    dataCenter: { pue: p.pue as RangeOrNumber, wueOnsite: p.wueOnsite as RangeOrNumber },
  }));
  const mixes = new Map<string, ElectricityMix>();
  for (const [zone, raw] of Object.entries(data.mixes ?? {})) {
    if (!/^[A-Z]{3}$/.test(zone))
      throw new ModelDataError(file, `mixes.${zone}: expected an alpha-3 zone key`);
    const result = mixSchema.safeParse(raw);
    if (!result.success)
      throw new ModelDataError(file, `mixes.${zone}: ${describeIssue(result.error)}`);
    mixes.set(zone, result.data);
  }
  return { file, models, providers, mixes };
}

const WARNING_TEXT: Record<string, string> = {
  'model-arch-not-released':
    'the model architecture is not published: its parameter count is an estimate, hence the range',
  'model-arch-multimodal': 'the model is multimodal: only text generation is accounted for',
};

/** The envelope of the known providers' figures, for a provider without its own. */
function envelope(values: Range[]): Range {
  return {
    min: Math.min(...values.map((v) => v.min)),
    max: Math.max(...values.map((v) => v.max)),
  };
}

/** Models, providers' data centres and electricity mixes: bundled data plus the user's own. */
export class Catalog {
  private readonly models = new Map<string, ModelEntry>();
  private readonly providers = new Map<string, ProviderEntry>();
  private readonly mixes = new Map<string, ElectricityMix>();

  constructor(files: ParsedFile[]) {
    // Later files win, so a user's file can correct a bundled figure.
    for (const f of files) {
      for (const m of f.models) this.models.set(`${m.provider}/${m.name}`, m);
      for (const p of f.providers) this.providers.set(p.name, p);
      for (const [zone, mix] of f.mixes) this.mixes.set(zone, mix);
    }
    if (!this.mixes.has(DEFAULT_ZONE)) {
      throw new ModelDataError('electricity mixes', `the ${DEFAULT_ZONE} mix is required`);
    }
    for (const f of files) {
      f.providers.forEach((p, i) => {
        if (!this.mixes.has(p.zone)) {
          throw new ModelDataError(
            f.file,
            `providers[${i}] (${p.name}): zone "${p.zone}" has no electricity mix; known zones: ${this.zones().join(', ')}`,
          );
        }
      });
    }
  }

  /** Names of the models known for a provider, sorted. */
  modelNames(provider: string): string[] {
    return [...this.models.values()]
      .filter((m) => m.provider === provider)
      .map((m) => m.name)
      .sort();
  }

  zones(): string[] {
    return [...this.mixes.keys()].sort();
  }

  hasProvider(provider: string): boolean {
    return this.providers.has(provider);
  }

  model(provider: string, name: string): ModelEntry {
    const entry = this.models.get(`${provider}/${name}`);
    if (!entry) throw new UnknownModelError(provider, name, this.modelNames(provider));
    return entry;
  }

  mix(zone: string): ElectricityMix {
    const mix = this.mixes.get(zone);
    if (!mix) throw new UnknownZoneError(zone, this.zones());
    return mix;
  }

  /** The provider's data centre; for an unknown provider, the world mix and the known envelope. */
  dataCenter(provider: string): { zone: string; dataCenter: DataCenter; warning?: ImpactWarning } {
    const known = this.providers.get(provider);
    if (known) return { zone: known.zone, dataCenter: known.dataCenter };
    const all = [...this.providers.values()];
    return {
      zone: DEFAULT_ZONE,
      dataCenter: {
        pue: envelope(all.map((p) => toRange(p.dataCenter.pue))),
        wueOnsite: envelope(all.map((p) => toRange(p.dataCenter.wueOnsite))),
      },
      warning: {
        code: 'provider-unknown',
        message: `no data-centre figures for provider "${provider}": the world (${DEFAULT_ZONE}) mix is used, and PUE and on-site WUE span the range of the known providers`,
      },
    };
  }

  /** What the method needs for one request; `zone` is a user's choice over the provider's. */
  resolve(provider: string, modelName: string, zone?: string): Resolved {
    const model = this.model(provider, modelName);
    const dc = this.dataCenter(provider);
    const chosenZone = zone ?? dc.zone;
    const mix = this.mix(chosenZone);
    const warnings: ImpactWarning[] = model.warnings.map((code) => ({
      code,
      message: WARNING_TEXT[code] ?? code,
    }));
    if (dc.warning) warnings.push(dc.warning);
    return { model, zone: chosenZone, dataCenter: dc.dataCenter, mix, warnings };
  }
}

const BUNDLED = ['models.json', 'providers.json', 'electricity-mixes.json'];

/** The bundled data plus, if given, the user's extra models file (validated, errors name the entry). */
export function loadCatalog(options: { modelsFile?: string } = {}): Catalog {
  const files = BUNDLED.map((name) => readDataFile(dataFile('llm', name)));
  if (options.modelsFile) files.push(readDataFile(options.modelsFile));
  return new Catalog(files);
}
