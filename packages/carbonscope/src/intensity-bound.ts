/**
 * The most gCO2e/kWh a grid value may be, set (CARBON_INTENSITY) or read (Electricity Maps).
 * The dirtiest real grids reach about 1000-1200 g/kWh (coal- or oil-shale-heavy zones at their
 * worst hours); 5000 leaves a margin of four times that, so every real value passes while a value
 * in g/MWh (a thousand times too big) or a corrupt answer is refused, not priced into figures.
 */
export const MAX_CARBON_INTENSITY = 5000;
