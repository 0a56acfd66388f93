import {
  type Catalog,
  LlmError,
  type ModelEntry,
  SettingsError,
  UnknownMixZoneError,
} from 'carbonscope';

export interface LlmSettings {
  /** LLM_PROVIDER: the provider of bare model names. */
  provider: string;
  /** LLM_MODEL: the default model, `provider/model` or a bare name. */
  defaultModel: string;
  /** LLM_ELECTRICITY_MIX_ZONE, when set. */
  electricityMixZone?: string;
}

/** The model data's own words for what it lacks, as a setting's error naming its variable. */
function asSetting<T>(variable: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw err instanceof LlmError ? new SettingsError(variable, err.message) : err;
  }
}

/**
 * Checks the LLM settings against the model data (bundled plus LLM_MODELS_FILE), which the
 * config schema cannot: a provider no model has (a typo) would pass every bare name on to
 * whichever provider has it, without a word. Returns the default model.
 */
export function checkLlmSettings(catalog: Catalog, settings: LlmSettings): ModelEntry {
  const { provider, electricityMixZone: zone } = settings;
  const providers = catalog.providerNames();
  if (!providers.includes(provider)) {
    throw new SettingsError(
      'LLM_PROVIDER',
      `no model of provider "${provider}" is known; the model data has ${providers.join(', ')} (LLM_MODELS_FILE adds your own)`,
    );
  }
  const model = asSetting('LLM_MODEL', () => catalog.resolveModel(settings.defaultModel, provider));
  if (zone !== undefined && !catalog.findMix(zone)) {
    throw new SettingsError('LLM_ELECTRICITY_MIX_ZONE', new UnknownMixZoneError(zone).message);
  }
  return model;
}
