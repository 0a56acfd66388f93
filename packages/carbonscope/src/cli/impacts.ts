import type { Impact, StatusMessage } from '../llm/index.js';
import {
  AmbiguousModelError,
  type Catalog,
  DEFAULT_ZONE,
  didYouMean,
  type EstimatedImpacts,
  failed,
  formatImpact,
  type ImpactsOutput,
  type ImpactsRequest,
  llmImpacts,
  loadCatalog,
  ModelDataError,
  UnknownModelError,
} from '../llm/index.js';
import { printable, terminalJson } from '../printable.js';
import { SettingsError } from '../settings.js';
import { IMPACTS_HELP, type ImpactsOptions, parseImpactsArgs, UsageError } from './args.js';
import { shellQuote, sig } from './summary.js';

/** Exit status when the model, provider or zone is unknown: the output's errors say which. */
export const NO_ESTIMATE_EXIT = 1;

/**
 * The request the options name. An explicit --provider is taken at its word, as EcoLogits
 * takes it (a model of another provider is then not registered); without it the model id is
 * resolved as everywhere else: `provider/model`, or a bare name one provider has.
 */
export function requestOf(
  catalog: Catalog,
  o: ImpactsOptions,
): { request: ImpactsRequest } | { output: ImpactsOutput } {
  const figures = { outputTokens: o.outputTokens, requestLatencySeconds: o.latencySeconds };
  const base = { ...figures, zone: o.zone };
  if (o.provider !== undefined) {
    const prefix = `${o.provider}/`;
    const qualified = o.model.startsWith(prefix) && !catalog.findModel(o.provider, o.model);
    const model = qualified ? o.model.slice(prefix.length) : o.model;
    return { request: { ...base, provider: o.provider, model } };
  }
  try {
    const m = catalog.resolveModel(o.model);
    return { request: { ...base, provider: m.provider, model: m.name } };
  } catch (err) {
    if (err instanceof AmbiguousModelError)
      throw new UsageError(`${err.message} (or give --provider)`);
    if (!(err instanceof UnknownModelError)) throw err;
  }
  const slash = o.model.indexOf('/');
  if (slash > 0) {
    const provider = o.model.slice(0, slash);
    return { request: { ...base, provider, model: o.model.slice(slash + 1) } };
  }
  return {
    output: failed({
      code: 'model-not-registered',
      message: `Could not find model \`${o.model}\` for any provider.`,
    }),
  };
}

/**
 * An error as its stderr line tells it: EcoLogits' code and message (the JSON keeps them as they
 * are), then what a slip of case or space was probably meant to name, or what a zone looks like.
 */
export function errorLine(catalog: Catalog, o: ImpactsOptions, error: StatusMessage): string {
  let hint = '';
  if (error.code === 'model-not-registered') {
    const ids = o.provider === undefined ? [o.model] : [`${o.provider}/${o.model}`, o.model];
    const found = [...new Set(ids.flatMap((id) => catalog.similarModels(id)))];
    const similar = didYouMean(found.map((id) => asTyped(id, o.provider)));
    hint = similar ? ` ${similar}` : unknownProviderHint(catalog, o);
  } else if (error.code === 'zone-not-registered' && o.zone !== undefined) {
    const zone = catalog.similarZone(o.zone);
    hint =
      zone === undefined
        ? ` Zones are ISO 3166-1 alpha-3 codes such as DEU or FRA, or ${DEFAULT_ZONE} for the world.`
        : ` ${didYouMean([zone])}`;
  }
  return `${error.code}: ${error.message}${hint}`;
}

/**
 * Where the request names a provider no model has (`-p nope`, `-m nope/gpt-4o`): the help says
 * the errors tell which of model and provider is unknown, and EcoLogits' names the model only.
 */
function unknownProviderHint(catalog: Catalog, o: ImpactsOptions): string {
  const slash = o.model.indexOf('/');
  const provider = o.provider ?? (slash > 0 ? o.model.slice(0, slash) : undefined);
  if (provider === undefined || catalog.modelNames(provider).length > 0) return '';
  return ` No model has provider \`${provider}\`; the providers are ${catalog.providerNames().join(', ')}.`;
}

/**
 * A suggested id as the user would type it: under --provider, another provider's model is named
 * by its own --provider, since `-m openai/gpt-4o` beside `-p anthropic` is still not registered.
 * Quoted for a shell where it needs it: `--model My Model` pasted gave --model My and a stray Model.
 */
function asTyped(id: string, provider: string | undefined): string {
  const slash = id.indexOf('/');
  if (provider === undefined || id.slice(0, slash) === provider) return shellQuote(id);
  return `--provider ${shellQuote(id.slice(0, slash))} --model ${shellQuote(id.slice(slash + 1))}`;
}

const ROWS = [
  ['energy', 'Energy'],
  ['gwp', 'Global warming (GWP)'],
  ['adpe', 'Abiotic resources (ADPe)'],
  ['pe', 'Primary energy (PE)'],
  ['wcf', 'Water (WCF)'],
] as const;

/** The human report: each criterion's total, then its usage and embodied parts where it has both. */
export function formatImpacts(request: ImpactsRequest, out: EstimatedImpacts): string {
  const latency =
    request.requestLatencySeconds === undefined
      ? 'no measured latency (infinite)'
      : `measured latency ${request.requestLatencySeconds} s`;
  const row = (label: string, impact: Impact) => `${label.padEnd(28)}${formatImpact(impact, sig)}`;
  const lines = [
    `${request.provider}/${request.model}: ${request.outputTokens} output ${request.outputTokens === 1 ? 'token' : 'tokens'}, ${latency}, electricity mix ${out.zone}`,
  ];
  for (const [key, label] of ROWS) {
    if (key === 'energy' || key === 'wcf') {
      lines.push(row(`${label}, usage only`, out[key]));
      continue;
    }
    lines.push(
      row(label, out[key]),
      row('  usage', out.usage[key]),
      row('  embodied', out.embodied[key]),
    );
  }
  for (const w of out.warnings ?? []) lines.push(`warning (${w.code}): ${w.message}`);
  lines.push('EcoLogits 0.11 method; a range reads "mean [min – max]".');
  return `${lines.join('\n')}\n`;
}

/**
 * `carbonscope impacts`: returns the exit status for the process; throws SettingsError for a bad
 * LLM_MODELS_FILE.
 */
export async function impactsCommand(
  args: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const options = parseImpactsArgs(args);
  if (options.help) {
    process.stdout.write(IMPACTS_HELP);
    return 0;
  }
  let catalog: Catalog;
  const modelsFile = env.LLM_MODELS_FILE || undefined;
  try {
    catalog = loadCatalog({ modelsFile });
  } catch (err) {
    // A bundled table that cannot be read is a broken install, not the user's setting.
    if (!(err instanceof ModelDataError) || err.file !== modelsFile) throw err;
    // Told as run's and monitor's bad settings are (failureOf), in one wording and exit status.
    throw new SettingsError('LLM_MODELS_FILE', err.message);
  }
  const named = requestOf(catalog, options);
  const output = 'output' in named ? named.output : llmImpacts(catalog, named.request);
  if (options.json) process.stdout.write(`${terminalJson(output)}\n`);
  if (output.errors) {
    for (const e of output.errors) {
      process.stderr.write(`carbonscope impacts: ${printable(errorLine(catalog, options, e))}\n`);
    }
    return NO_ESTIMATE_EXIT;
  }
  if (!options.json && 'request' in named)
    process.stdout.write(formatImpacts(named.request, output));
  return 0;
}
