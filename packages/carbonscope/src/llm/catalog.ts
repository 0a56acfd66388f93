import { existsSync } from 'node:fs';
// The codes only: the package's main entry also registers every locale's country names.
import countries from 'i18n-iso-countries/index.js';
import { dataFile } from '../paths.js';
import { cutText } from '../shown-value.js';
import {
  LABELLED,
  type MixEntry,
  type ModelEntry,
  type ParsedFile,
  type ProviderEntry,
  readDataFile,
} from './data-file.js';
import { AmbiguousModelError, ModelDataError, UnknownModelError } from './errors.js';
import type { DataCenter, Range } from './impacts.js';
import { toRange } from './impacts.js';
import type { StatusMessage } from './status.js';

export type { MixEntry, ModelEntry, ProviderEntry } from './data-file.js';

/** The zone EcoLogits falls back to: the world mix. */
export const DEFAULT_ZONE = 'WOR';

/** A provider's data centre as the method uses it, with a warning when it is a stand-in. */
export interface ProviderDataCenter {
  zone: string;
  dataCenter: DataCenter;
  warning?: StatusMessage;
}

/** The envelope of the known providers' figures, for a provider without its own. */
function envelope(values: Range[]): Range {
  return {
    min: Math.min(...values.map((v) => v.min)),
    max: Math.max(...values.map((v) => v.max)),
  };
}

/** How many model names an "unknown model" message lists before it says how many more. */
const LISTED = 20;

const idOf = (m: ModelEntry) => `${m.provider}/${m.name}`;

/** How an id is compared for a suggestion: what a slip of case or of copied space leaves alike. */
const loose = (id: string) => id.trim().toLowerCase();

/** How many similar models a suggestion names. */
const SUGGESTED = 5;

/**
 * Models, providers' data centres and electricity mixes: the bundled data (exported from
 * EcoLogits) plus the user's own. A model is named `provider/model`, or by its bare name when
 * that is unambiguous.
 */
export class Catalog {
  private readonly models = new Map<string, ModelEntry>();
  private readonly byName = new Map<string, ModelEntry[]>();
  private readonly providers = new Map<string, ProviderEntry>();
  private readonly mixes = new Map<string, MixEntry>();

  constructor(files: ParsedFile[]) {
    // Later files win, so a user's file can correct a bundled figure.
    for (const f of files) {
      for (const m of f.models) this.models.set(idOf(m), m);
      for (const p of f.providers) this.providers.set(p.name, p);
      for (const [zone, mix] of f.mixes) this.mixes.set(zone, mix);
    }
    for (const m of this.models.values()) {
      const same = this.byName.get(m.name);
      if (same) same.push(m);
      else this.byName.set(m.name, [m]);
    }
    if (!this.mixes.has(DEFAULT_ZONE)) {
      throw new ModelDataError('electricity mixes', `the ${DEFAULT_ZONE} mix is required`);
    }
    for (const f of files) {
      f.providers.forEach((p, i) => {
        if (!this.mixes.has(p.zone)) {
          throw new ModelDataError(
            f.file,
            `providers[${i}] (${cutText(p.name, LABELLED)}): zone "${p.zone}" has no electricity mix`,
          );
        }
      });
    }
  }

  /** Every model as `provider/model`, sorted. */
  modelIds(): string[] {
    return [...this.models.keys()].sort();
  }

  /** Names of the models known for a provider, sorted. */
  modelNames(provider: string): string[] {
    return [...this.models.values()]
      .filter((m) => m.provider === provider)
      .map((m) => m.name)
      .sort();
  }

  /** Providers that have models, sorted. */
  providerNames(): string[] {
    return [...new Set([...this.models.values()].map((m) => m.provider))].sort();
  }

  zones(): string[] {
    return [...this.mixes.keys()].sort();
  }

  hasProvider(provider: string): boolean {
    return this.providers.has(provider);
  }

  findModel(provider: string, name: string): ModelEntry | undefined {
    return this.models.get(`${provider}/${name}`);
  }

  findMix(zone: string): MixEntry | undefined {
    return this.mixes.get(zone);
  }

  /**
   * `provider/model` ids that `id` names but for case or surrounding space, or but for a prefix
   * that is no provider of that model (`models/gemini-2.5-flash`, `google/...`, `azure/...`),
   * sorted. Only suggested, as EcoLogits refuses them: `azure/` is another data centre.
   */
  similarModels(id: string): string[] {
    const wanted = loose(id);
    const slash = wanted.indexOf('/');
    const unprefixed = slash > 0 ? wanted.slice(slash + 1) : undefined;
    return [...this.models.values()]
      .filter((m) => {
        const name = loose(m.name);
        return loose(idOf(m)) === wanted || name === wanted || name === unprefixed;
      })
      .map(idOf)
      .sort()
      .slice(0, SUGGESTED);
  }

  /**
   * The zone `zone` names but for case or surrounding space (`fra` for FRA), or as the alpha-2
   * code `run`, `monitor` and CARBON_ZONE take (`FR` for FRA).
   */
  similarZone(zone: string): string | undefined {
    const wanted = zone.trim().toUpperCase();
    if (this.mixes.has(wanted)) return wanted;
    const alpha3 = wanted.length === 2 ? countries.alpha2ToAlpha3(wanted) : undefined;
    return alpha3 !== undefined && this.mixes.has(alpha3) ? alpha3 : undefined;
  }

  /**
   * The model a client names: `provider/model` when the prefix is a provider that has that
   * model; else the bare name under the default provider; else the one provider that has the
   * name. Hugging Face names hold a slash of their own (`meta-llama/...`), which is why the
   * prefix only counts when it matches. Throws a 400 naming the candidates when several
   * providers have the name, or naming what is known when none has.
   */
  resolveModel(id: string, defaultProvider?: string): ModelEntry {
    if (typeof id !== 'string') {
      throw new TypeError(
        `model: expected a model id such as openai/gpt-4o, got ${id === null ? 'null' : typeof id}`,
      );
    }
    const slash = id.indexOf('/');
    const prefix = slash > 0 ? id.slice(0, slash) : undefined;
    if (prefix !== undefined) {
      const qualified = this.findModel(prefix, id.slice(slash + 1));
      if (qualified) return qualified;
    }
    if (defaultProvider !== undefined) {
      const preferred = this.findModel(defaultProvider, id);
      if (preferred) return preferred;
    }
    const candidates = this.byName.get(id) ?? [];
    if (candidates.length === 1) return candidates[0];
    if (candidates.length > 1) throw new AmbiguousModelError(id, candidates.map(idOf).sort());
    const provider =
      prefix !== undefined && this.providerNames().includes(prefix) ? prefix : defaultProvider;
    const known = provider === undefined ? [] : this.modelNames(provider);
    const listed = known.slice(0, LISTED).map((name) => `${provider}/${name}`);
    if (known.length > LISTED) listed.push(`and ${known.length - LISTED} more`);
    throw new UnknownModelError(id, provider, listed, this.similarModels(id));
  }

  /** The provider's data centre; for a provider without figures, the world mix and the known envelope. */
  dataCenter(provider: string): ProviderDataCenter {
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
        message: `No data-centre figures for provider ${provider}: the world (${DEFAULT_ZONE}) mix is used, and PUE and on-site WUE span the range of the known providers.`,
      },
    };
  }
}

const BUNDLED = ['models.json', 'providers.json', 'electricity-mixes.json'];

/**
 * Where a bundled table is. A bundler inlines the code and leaves data/ behind; without this its
 * user read "file not found" about a path two folders above the bundle.
 */
function bundledFile(name: string): string {
  const file = dataFile('llm', name);
  if (file && existsSync(file)) return file;
  throw new ModelDataError(
    file ?? `carbonscope/data/llm/${name}`,
    "not found: carbonscope reads its LLM tables from its package's data/ folder (a bundler " +
      'leaves it behind: keep carbonscope out of the bundle, esbuild --external:carbonscope)',
  );
}

/** The bundled data plus, if given, the user's extra models file (validated, errors name the entry). */
export function loadCatalog(options: { modelsFile?: string } = {}): Catalog {
  const files = BUNDLED.map((name) => readDataFile(bundledFile(name)));
  if (options.modelsFile) files.push(readDataFile(options.modelsFile));
  return new Catalog(files);
}
