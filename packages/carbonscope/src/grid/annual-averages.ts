import { averageIntensity } from '@tgwf/co2/data';
import electricityMapsYearly, { type YearlyAverages } from '@tgwf/co2/data/electricity-maps';
// The codes only: the package's main entry also registers every locale's country names.
import countries from 'i18n-iso-countries/index.js';
import { zoneKind } from '../zones.js';

/** An average from the data @tgwf/co2 ships: no I/O, no key, no history. */
export interface AnnualAverage {
  carbonIntensity: number;
  source: 'annual-average' | 'world-average';
  /** What the number is, in words, for the API user. */
  basis: string;
}

const EMBER = averageIntensity.data;
/** Ember's world figure (about 473 g/kWh); CodeCarbon's 475 is the last resort if it vanishes. */
export const WORLD_AVERAGE = EMBER.WORLD ?? 475;

/** Electricity Maps yearly averages, newest year first. */
const YEARS: Array<{ year: string; table: YearlyAverages }> = Object.entries(electricityMapsYearly)
  .map(([name, table]) => ({ year: name.replace(/\D/g, ''), table }))
  .filter((y) => y.year.length === 4)
  .sort((a, b) => b.year.localeCompare(a.year));

/**
 * The most specific average for a zone:
 * 1. the zone's own Electricity Maps yearly average (covers sub-zones such as US-CAL-CISO,
 *    whose grid can differ widely from the country's);
 * 2. the country's Ember yearly average (the zone's alpha-2 prefix mapped to alpha-3);
 * 3. the world average, for a real country without data.
 * Undefined for a zone neither Electricity Maps' list nor the country codes know (see zones.ts).
 */
export function annualAverage(zone: string): AnnualAverage | undefined {
  if (zoneKind(zone) === 'unknown') return undefined;
  for (const { year, table } of YEARS) {
    const value = table.data[zone]?.carbonIntensity.value;
    if (typeof value === 'number' && Number.isFinite(value)) {
      return {
        carbonIntensity: value,
        source: 'annual-average',
        basis: `Electricity Maps ${year} yearly average for zone ${zone}`,
      };
    }
  }
  const alpha2 = zone.slice(0, 2);
  const alpha3 = countries.alpha2ToAlpha3(alpha2);
  if (alpha3 === undefined) return undefined;
  const country = EMBER[alpha3];
  if (typeof country === 'number' && Number.isFinite(country)) {
    return {
      carbonIntensity: country,
      source: 'annual-average',
      basis: `Ember yearly average for country ${alpha3} (from zone ${zone})`,
    };
  }
  return {
    carbonIntensity: WORLD_AVERAGE,
    source: 'world-average',
    basis: `Ember world yearly average (no data for country ${alpha3})`,
  };
}
