// @tgwf/co2 ships no type declarations; these cover the two data modules the grid reads.
declare module '@tgwf/co2/data' {
  /** Ember yearly averages in gCO2e/kWh keyed by ISO alpha-3 code or aggregate (WORLD, EU). */
  export const averageIntensity: { data: Record<string, number>; type: string };
}

declare module '@tgwf/co2/data/electricity-maps' {
  export interface YearlyZoneAverage {
    zone: { zoneName?: string; displayName?: string; countryName?: string };
    carbonIntensity: { value: number | null; unit: string };
  }
  export interface YearlyAverages {
    data: Record<string, YearlyZoneAverage>;
    methodology: string;
  }
  const yearly: Record<string, YearlyAverages>;
  export default yearly;
}
