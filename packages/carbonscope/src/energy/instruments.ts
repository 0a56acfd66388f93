import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';

/**
 * Log-spaced (1, 3 per decade) boundaries. Energy per request on a small VM is micro- to
 * milli-joules (a 1 ms request at 0.1–5 W of process power is 0.1–5 mJ); a chat or a long
 * inference reaches joules. 1 µJ .. 300 J (18 buckets) covers all of them. Two per decade, not
 * three: every bucket is a series per operation, and /metrics must stay fast to scrape (the
 * two operation histograms were two thirds of the exposition with three per decade).
 */
export const OPERATION_ENERGY_BUCKETS_JOULES = logBuckets(-6, 2);

/**
 * Grams follow from joules × PUE × intensity / 3.6e6: at 50–800 gCO2e/kWh one joule is
 * 1.4e-5–2.2e-4 g, so 1 µJ .. 300 J maps into 1e-11 .. 0.3 g (22 buckets).
 */
export const OPERATION_EMISSIONS_BUCKETS_GRAMS = logBuckets(-11, -1);

/** 1, 3 × 10^e for e in [from, to], ascending. */
export function logBuckets(fromExponent: number, toExponent: number): number[] {
  const out: number[] = [];
  for (let e = fromExponent; e <= toExponent; e++) {
    for (const m of [1, 3]) out.push(Number((m * 10 ** e).toPrecision(2)));
  }
  return out;
}

export interface EnergyInstruments {
  energy: Counter;
  emissions: Counter;
  power: ObservableGauge;
  emissionsRate: ObservableGauge;
  operationEnergy: Histogram;
  operationEmissions: Histogram;
}

/** The instruments of DESIGN.md's metric table; names carry their unit word, counters no `_total`. */
export function createEnergyInstruments(meter: Meter): EnergyInstruments {
  return {
    energy: meter.createCounter('energy_joules', {
      description: 'Energy used, by scope (host, process), component and power source',
      unit: 'J',
    }),
    emissions: meter.createCounter('emissions_grams', {
      description: 'CO2-equivalent emissions of the energy used (energy x PUE x grid intensity)',
      unit: 'g',
    }),
    power: meter.createObservableGauge('power_watts', {
      description: 'Average power over the latest sample interval, by scope, component and source',
      unit: 'W',
    }),
    emissionsRate: meter.createObservableGauge('emissions_rate_grams_per_second', {
      description: 'Emissions rate over the latest sample interval, by scope and zone',
      unit: 'g/s',
    }),
    operationEnergy: meter.createHistogram('operation_energy_joules', {
      description: "Each operation's share of the process's energy while it ran",
      unit: 'J',
      advice: { explicitBucketBoundaries: OPERATION_ENERGY_BUCKETS_JOULES },
    }),
    operationEmissions: meter.createHistogram('operation_emissions_grams', {
      description: "Each operation's share of the process's emissions while it ran",
      unit: 'g',
      advice: { explicitBucketBoundaries: OPERATION_EMISSIONS_BUCKETS_GRAMS },
    }),
  };
}
