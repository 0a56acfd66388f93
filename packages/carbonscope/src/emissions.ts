/** Joules in one kilowatt-hour. */
export const JOULES_PER_KWH = 3.6e6;

/**
 * Grams of CO2e per joule drawn by the IT load: the facility's overhead (PUE) is applied to the
 * energy before it is priced at the grid intensity (gCO2e/kWh) valid at that moment. Energy
 * counters stay raw IT energy; only emissions include the overhead.
 */
export function gramsPerJoule(intensityGramsPerKwh: number, pue: number): number {
  if (!(intensityGramsPerKwh >= 0) || !(pue >= 1)) return 0;
  return (intensityGramsPerKwh * pue) / JOULES_PER_KWH;
}
