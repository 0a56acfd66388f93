/**
 * Tailpipe CO2 of a typical passenger car per metre driven, for the dashboard's plain-words line.
 *
 * Source: US EPA, "Greenhouse Gas Emissions from a Typical Passenger Vehicle" (EPA-420-F-23-014,
 * June 2023): 8,887 g CO2 per gallon of gasoline burned, and a typical fleet fuel economy of
 * about 22.0 miles per gallon, i.e. 8,887 / 22.0 ≈ 404 g CO2 per mile ≈ 251 g per km.
 *
 * Approximate by nature: tailpipe CO2 only (no fuel production, no CH4/N2O), a US fleet average
 * (newer and smaller cars emit less), compared with CO2e. It is there to give a
 * sense of scale, not an accounting figure, and the page says so.
 */
export const CAR_GRAMS_CO2_PER_METRE = 8887 / 22.0 / 1609.344;

export const CAR_EQUIVALENCE_SOURCE =
  'US EPA, Greenhouse Gas Emissions from a Typical Passenger Vehicle (EPA-420-F-23-014, 2023): ' +
  '8,887 g CO2/gallon at 22.0 mpg ≈ 251 g CO2/km, tailpipe only';

/** Metres a typical petrol car drives for the same grams of CO2 (approximate). */
export function carMetres(grams: number): number {
  return grams > 0 ? grams / CAR_GRAMS_CO2_PER_METRE : 0;
}
