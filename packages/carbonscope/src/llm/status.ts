/**
 * EcoLogits' warning and error codes with its messages, word for word, so an estimate reads the
 * same here as from the Python package. Warnings say why an estimate is less certain; errors
 * say why there is none.
 */

/** A warning or error: a stable code and a sentence for people. */
export interface StatusMessage {
  code: string;
  message: string;
}

/** EcoLogits' warnings, by code, with its own words. */
export const WARNING_MESSAGES = {
  'model-arch-not-released':
    'The model architecture has not been released, expect lower precision.',
  'model-arch-multimodal': 'The model architecture is multimodal, expect lower precision.',
  'electricity-mix-adpe-world':
    'The electricity mix ADPe factor is using the world default value, expect lower precision.',
  'electricity-mix-pe-world':
    'The electricity mix PE factor is using the world default value, expect lower precision.',
  'electricity-mix-wue-world':
    'The electricity mix WUE factor is using the world default value, expect lower precision.',
} as const;

export type WarningCode = keyof typeof WARNING_MESSAGES;
/** The codes of WARNING_MESSAGES. */
export const WARNING_CODES = Object.keys(WARNING_MESSAGES) as [WarningCode, ...WarningCode[]];

/** The warning of `code`, as an impacts output lists it. */
export function warning(code: WarningCode): StatusMessage {
  return { code, message: WARNING_MESSAGES[code] };
}

/** No model of that name for that provider (an unknown provider has no models either). */
export function modelNotRegistered(provider: string, model: string): StatusMessage {
  return {
    code: 'model-not-registered',
    message: `Could not find model \`${model}\` for ${provider} provider.`,
  };
}

/** No electricity mix for that zone (zones are ISO 3166-1 alpha-3 codes, and WOR). */
export function zoneNotRegistered(zone: string): StatusMessage {
  return {
    code: 'zone-not-registered',
    message: `Could not find electricity mix for \`${zone}\` zone.`,
  };
}
