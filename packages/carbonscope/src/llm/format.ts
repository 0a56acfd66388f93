import { type Impact, mean } from './impacts.js';

/**
 * "mean [min – max] unit" as EcoLogits shows a range, an exact figure as it is; the caller
 * chooses how numbers read (a page and a terminal round differently).
 */
export function formatImpact({ value, unit }: Impact, number: (n: number) => string): string {
  if (typeof value === 'number') return `${number(value)} ${unit}`;
  return `${number(mean(value))} [${number(value.min)} – ${number(value.max)}] ${unit}`;
}
