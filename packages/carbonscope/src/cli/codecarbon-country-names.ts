/**
 * The country names CodeCarbon 3.3.2 writes (its data/private_infra/global_energy_mix.json)
 * where they differ from i18n-iso-countries' English names, so a CSV grouped by country_name
 * does not split one country in two. Keyed by ISO 3166-1 alpha-3.
 */
export const CODECARBON_COUNTRY_NAMES: Readonly<Record<string, string>> = {
  BRN: 'Brunei',
  CHN: 'China',
  COD: 'Democratic Republic of Congo',
  COG: 'Congo',
  CZE: 'Czechia',
  FLK: 'Falkland Islands',
  GMB: 'Gambia',
  IRN: 'Iran',
  LAO: 'Laos',
  MDA: 'Moldova',
  MKD: 'North Macedonia',
  PSE: 'Palestine',
  RUS: 'Russia',
  SYR: 'Syria',
  TLS: 'East Timor',
  TUR: 'Turkey',
  TWN: 'Taiwan',
  TZA: 'Tanzania',
  USA: 'United States',
  VGB: 'British Virgin Islands',
  VIR: 'United States Virgin Islands',
};
