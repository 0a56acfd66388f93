import electricityMapsYearly from '@tgwf/co2/data/electricity-maps';
// The codes only: the package's main entry also registers every locale's country names.
import countries from 'i18n-iso-countries/index.js';

/** The longest zone key accepted anywhere (Electricity Maps' longest is 12 characters). */
export const MAX_ZONE_LENGTH = 32;

/**
 * A zone key as written by a client or an upstream, in the upper case zone keys use: a-z only,
 * since toUpperCase() also maps other letters onto ASCII ones (ſ → S, ı → I), which would pass
 * `ſe` off as SE.
 */
export function zoneKeyCase(text: string): string {
  return text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

/** Every zone of the Electricity Maps yearly data @tgwf/co2 ships, every year together. */
const LISTED: ReadonlySet<string> = new Set(
  Object.values(electricityMapsYearly).flatMap((table) => Object.keys(table.data)),
);

/**
 * What the bundled data knows of a zone key:
 * - `electricity-maps`: a zone of Electricity Maps' own list (sub-zones such as US-CAL-CISO
 *   included): the only zones worth asking the API about;
 * - `country`: an ISO 3166 alpha-2 code Electricity Maps has no zone for: an Ember country
 *   average or the world average, never an API call;
 * - `unknown`: anything else, however well-formed (UK, EU, DE-X1): refused, never an API call,
 *   so made-up zones cannot spend the quota.
 */
export type ZoneKind = 'electricity-maps' | 'country' | 'unknown';

export function zoneKind(zone: string): ZoneKind {
  if (LISTED.has(zone)) return 'electricity-maps';
  if (zone.length === 2 && countries.alpha2ToAlpha3(zone) !== undefined) return 'country';
  return 'unknown';
}

/** Electricity Maps' own zones, as the bundled data lists them. */
export function electricityMapsZones(): string[] {
  return [...LISTED];
}

/** How many zone keys are known at most (listed zones plus country codes): a bound for caches. */
export const KNOWN_ZONES_BOUND = LISTED.size + Object.keys(countries.getAlpha2Codes()).length;
